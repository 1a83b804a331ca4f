/**
 * A problem with the user's project: a config field, a build error, a
 * missing class. `file`, `line` and `column` point at the cause when known;
 * the message is written for the user, not for us.
 */
export class ProjectError extends Error {
  override name = "ProjectError";
  readonly file: string | undefined;
  readonly line: number | undefined;
  readonly column: number | undefined;
  readonly field: string | undefined;

  constructor(
    message: string,
    where: { file?: string; line?: number; column?: number; field?: string } = {},
  ) {
    super(ProjectError.format(message, where));
    this.file = where.file;
    this.line = where.line;
    this.column = where.column;
    this.field = where.field;
  }

  static format(
    message: string,
    where: { file?: string; line?: number; column?: number; field?: string },
  ): string {
    let loc = where.file ?? "";
    if (where.file && where.line !== undefined) {
      loc += `:${where.line}`;
      if (where.column !== undefined) loc += `:${where.column}`;
    }
    const field = where.field ? `${where.field}: ` : "";
    return loc ? `${loc}: ${field}${message}` : `${field}${message}`;
  }
}
