// What the resource server asks of its authorization server for itself:
// RFC 7591 registration, and whether its client credentials are still accepted.

export interface ClientCredentials {
  clientId: string;
  clientSecret: string;
}

/** A call that did not succeed; `permanent` when retrying the same request cannot help (until someone changes a setting). */
export class AuthorizationServerError extends Error {
  constructor(
    message: string,
    readonly permanent = false,
  ) {
    super(message);
    this.name = 'AuthorizationServerError';
  }
}

/**
 * The metadata this resource server registers itself with: a confidential client that needs no scope, with
 * Tessera's resource-server role for its own resource identifier, so it may introspect the tokens of its
 * audience and read the revocation feed.
 */
export function registrationMetadata(resource: string): Record<string, unknown> {
  return { client_name: 'resource-server', grant_types: ['client_credentials'], scope: '', resource_server_for: [resource] };
}

export class AuthorizationServerClient {
  constructor(
    /** Where the auth server is reached: its issuer, or TESSERA_AUTH_SERVER_URL. */
    private readonly baseUrl: string,
    /** This server's resource identifier (the audience of its tokens), which it registers as resource server for. */
    private readonly resource: string,
    private readonly timeoutMs = 5000,
  ) {}

  /** RFC 7591 §3: POST {auth server}/oauth2/register with the initial access token as a bearer token. */
  async register(initialAccessToken: string, signal?: AbortSignal): Promise<ClientCredentials> {
    const url = `${this.baseUrl}/oauth2/register`;
    const res = await this.call(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${initialAccessToken}`, 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(registrationMetadata(this.resource)),
    }, signal);
    const body = await res.json().catch(() => null);
    if (res.status === 201 && typeof body?.client_id === 'string' && typeof body?.client_secret === 'string') {
      return { clientId: body.client_id, clientSecret: body.client_secret };
    }
    const why = describe(res.status, body);
    if (res.status === 401 || res.status === 403) {
      throw new AuthorizationServerError(`registration at ${url} refused the initial access token (${why}): TESSERA_INITIAL_ACCESS_TOKEN must be the auth server's`, true);
    }
    if (res.status === 404 || res.status === 405) {
      throw new AuthorizationServerError(`${url} answered ${why}: registration is not enabled there (the auth server needs TESSERA_INITIAL_ACCESS_TOKEN)`, true);
    }
    throw new AuthorizationServerError(`registration at ${url} failed (${why})`, res.status >= 400 && res.status < 500);
  }

  /**
   * Whether the authorization server still accepts these credentials as those of the resource server for
   * this server's resource: a page of the revocation feed answers 200 to a resource server, naming the
   * resources it serves (another one than ours when our resource identifier changed), 403 `access_denied` to
   * a client without the role (one registered before resource servers had it), and 401 `invalid_client` to
   * an unknown one.
   */
  async accepts(credentials: ClientCredentials, signal?: AbortSignal): Promise<boolean> {
    const url = `${this.baseUrl}/oauth2/revocations`;
    const res = await this.call(`${url}?limit=1`, {
      method: 'GET',
      headers: {
        authorization: `Basic ${Buffer.from(`${form(credentials.clientId)}:${form(credentials.clientSecret)}`).toString('base64')}`,
        accept: 'application/json',
      },
    }, signal);
    const body = await res.json().catch(() => null);
    if (res.status === 200) return Array.isArray(body?.resource_server_for) && body.resource_server_for.includes(this.resource);
    if (res.status === 401 || res.status === 403 || (res.status === 400 && body?.error === 'invalid_client')) return false;
    throw new AuthorizationServerError(`checking the stored client at ${url} failed (${describe(res.status, body)})`);
  }

  private async call(url: string, init: RequestInit, stop?: AbortSignal): Promise<Response> {
    const timeout = AbortSignal.timeout(this.timeoutMs);
    try {
      return await fetch(url, { ...init, redirect: 'error', signal: stop ? AbortSignal.any([timeout, stop]) : timeout });
    } catch (e) {
      throw new AuthorizationServerError(`cannot reach ${url}: ${reason(e)}`);
    }
  }
}

/** RFC 6749 §2.3.1: the form-urlencoding of each part of Basic credentials. */
function form(s: string): string {
  return encodeURIComponent(s).replace(/%20/g, '+');
}

function describe(status: number, body: unknown): string {
  const b = body as { error?: unknown; error_description?: unknown } | null;
  const detail = typeof b?.error === 'string' ? ` ${b.error}${typeof b.error_description === 'string' ? `: ${b.error_description}` : ''}` : '';
  return `HTTP ${status}${detail}`;
}

function reason(e: unknown): string {
  const cause = (e as { cause?: { code?: string; message?: string } })?.cause;
  if (cause?.code) return cause.code;
  if (e instanceof Error && e.name === 'TimeoutError') return 'timed out';
  return cause?.message ?? (e instanceof Error ? e.message : String(e));
}
