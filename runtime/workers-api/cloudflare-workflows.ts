/**
 * Terrarium's `cloudflare:workflows`: NonRetryableError, which a Workflow
 * step throws to fail its instance without retrying.
 */
export class NonRetryableError extends Error {
  constructor(message: string, name = "NonRetryableError") {
    super(message);
    this.name = name;
  }
}
