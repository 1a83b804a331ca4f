/**
 * The error every Workers API Terrarium cannot simulate throws when it is
 * called (never when it is imported), so code that only imports it, or uses
 * it on one path, still bundles and runs. Bundled into the project's code:
 * no Node APIs here.
 */
export class NotAvailableInTerrariumError extends Error {
  override name = "NotAvailableInTerrariumError";
}

export function unavailable(api: string, hint = ""): never {
  throw new NotAvailableInTerrariumError(
    `${api} is not available in Terrarium${hint ? `: ${hint}` : ""} (see docs/compatibility.md)`,
  );
}

/**
 * A class `name` that can be imported, extended and checked with
 * instanceof, and throws `unavailable` when constructed.
 */
export function unavailableClass(name: string, module: string): new (...args: unknown[]) => object {
  const classes = {
    [name]: class {
      constructor(..._args: unknown[]) {
        unavailable(`${name} from ${module}`);
      }
    },
  };
  return classes[name]!;
}
