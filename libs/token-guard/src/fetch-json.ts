import { OAuthError } from '@tessera/oauth-core';

/** How long one call to the auth server may take, body included. */
const TIMEOUT_MS = 5_000;

/**
 * GETs or POSTs to the auth server and parses the JSON answer. Whatever goes
 * wrong (unreachable, timeout, a non-2xx status, not JSON) is the auth
 * server's trouble, not the client's: `temporarily_unavailable`, with the
 * reason as the private cause.
 */
export async function fetchJson(url: string, init: RequestInit = {}): Promise<unknown> {
  const unavailable = (reason: string, cause?: unknown) =>
    OAuthError.temporarilyUnavailable(new Error(`${init.method ?? 'GET'} ${url}: ${reason}`, { cause }));
  let response: Response;
  try {
    response = await fetch(url, { ...init, redirect: 'error', signal: AbortSignal.timeout(TIMEOUT_MS) });
  } catch (error) {
    throw unavailable(error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : String(error), error);
  }
  if (!response.ok) {
    await response.body?.cancel();
    throw unavailable(`status ${response.status}`);
  }
  try {
    return await response.json();
  } catch (error) {
    throw unavailable('the answer is not JSON', error);
  }
}
