// Typed errors for everything a user can get wrong. main.ts prints `message` as one line and
// exits with `exitCode`, so each message must say what was wrong, where, and what to do.

/** A problem with user input (recipe, flag, data file, model folder): exit code 2. */
export class UsageError extends Error {
  readonly exitCode = 2;
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** Input that failed validation at a known place (file and field). */
export class ValidationError extends UsageError {
  constructor(where: string, problem: string) {
    super(`${where}: ${problem}`);
    this.name = "ValidationError";
  }
}

/** Throws a ValidationError unless `ok` holds. */
export function check(ok: boolean, where: string, problem: string): asserts ok {
  if (!ok) throw new ValidationError(where, problem);
}
