import { OAuthError } from '@tessera/oauth-core';

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);

/**
 * SQLSTATEs meaning "the database cannot serve you right now": class 08
 * (connection exception), admin/crash shutdown and "cannot connect now"
 * (57P01-57P03), too many connections (53300), and statement_timeout (57014).
 */
const OUTAGE_SQLSTATE = /^(08...|57P0[123]|53300|57014)$/;

/** node-postgres and pg-pool report a broken or unobtainable connection only in the message. */
const OUTAGE_MESSAGE =
  /^(Connection terminated|timeout exceeded when trying to connect|timeout expired|Client has encountered a connection error)/;

/**
 * True when `error` (or what it wraps: TypeORM's `driverError`, a `cause`, an
 * AggregateError's `errors`) says PostgreSQL is unreachable or the connection broke.
 */
export function isDatabaseOutage(error: unknown, depth = 0): boolean {
  // Duck-typed, not `instanceof Error`: Node's socket errors may come from another realm (Jest's VM, for one).
  if (typeof error !== 'object' || error === null || depth > 5 || error instanceof OAuthError) return false;
  const { code, message, driverError, cause, errors } = error as Record<string, unknown>;
  if (typeof code === 'string' && (NETWORK_CODES.has(code) || OUTAGE_SQLSTATE.test(code))) return true;
  if (typeof message === 'string' && OUTAGE_MESSAGE.test(message)) return true;
  const wrapped = [driverError, cause, ...(Array.isArray(errors) ? errors : [])];
  return wrapped.some((e) => isDatabaseOutage(e, depth + 1));
}

/**
 * Runs `work` (an adapter's whole method body), turning a database outage into
 * `OAuthError.temporarilyUnavailable` (503) so it reaches the client as such.
 * Any other error propagates unchanged.
 */
export async function translateOutage<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw isDatabaseOutage(error) ? OAuthError.temporarilyUnavailable(error) : error;
  }
}
