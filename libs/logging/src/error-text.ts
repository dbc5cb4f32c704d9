/** Tessera's own credentials (access, refresh and session tokens, client secrets, codes) and HTTP credentials. */
const CREDENTIAL = /\b(tsr_[a-z]{2}_)[A-Za-z0-9_-]+|\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/gi;

/** Any credential a message could carry, replaced: a last line of defence for text written to the log. */
export function scrubCredentials(text: string): string {
  return text.replace(CREDENTIAL, (_match, prefix: string | undefined, scheme: string | undefined) => (prefix ? `${prefix}[redacted]` : `${scheme} [redacted]`));
}

/**
 * An error as the log may show it: its stack (or message), with credentials scrubbed, and, for a database error
 * (a SQLSTATE `code`), the quoted values of its message left out, since PostgreSQL quotes the input it refused
 * (`invalid input syntax for type uuid: "…"`). Something thrown that is not an Error is named by its type only.
 */
export function errorForLog(error: unknown): string {
  // An Error of another realm (Node's own, under a test runner's VM context) is an Error too.
  const isError = error instanceof Error || Object.prototype.toString.call(error) === '[object Error]';
  if (!isError) return `a thrown ${error === null ? 'null' : typeof error}`;
  const e = error as Error;
  let text = e.stack ?? `${e.name}: ${e.message}`;
  if (isDatabaseError(e)) text = text.replace(/"[^"\n]*"|'[^'\n]*'/g, '"…"');
  return scrubCredentials(text);
}

function isDatabaseError(error: Error): boolean {
  const { code, driverError } = error as { code?: unknown; driverError?: unknown };
  return (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) || driverError !== undefined || error.name === 'QueryFailedError';
}
