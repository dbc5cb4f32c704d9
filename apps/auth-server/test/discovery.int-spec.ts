// Discovery (issue 10, points 14-15): RFC 8414 metadata only (no OpenID Connect document, since
// Tessera issues no ID tokens), and auth-method lists that say exactly what each endpoint accepts.
import { basicAuth, postForm, registerClient, startAuthServer, type RunningAuthServer } from './auth-server.harness.js';

const METHODS = ['client_secret_basic', 'client_secret_post', 'none'] as const;
type Method = (typeof METHODS)[number];

let server: RunningAuthServer;
let metadata: Record<string, unknown>;
const clients = {} as Record<Method, { client_id: string; client_secret?: string }>;

beforeAll(async () => {
  server = await startAuthServer();
  metadata = await (await fetch(`${server.url}/.well-known/oauth-authorization-server`)).json();
  clients.client_secret_basic = await registerClient(server.url, { token_endpoint_auth_method: 'client_secret_basic' });
  clients.client_secret_post = await registerClient(server.url, { token_endpoint_auth_method: 'client_secret_post' });
  clients.none = await registerClient(server.url, {
    token_endpoint_auth_method: 'none',
    grant_types: ['authorization_code', 'refresh_token'],
    redirect_uris: ['http://127.0.0.1:8080/cb'],
  });
});
afterAll(() => server.stop());

describe('well-known documents (point 14)', () => {
  it('serves no OpenID Connect discovery document: Tessera issues no ID tokens', async () => {
    const res = await fetch(`${server.url}/.well-known/openid-configuration`);
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: 'invalid_request', error_description: 'no such endpoint' });
  });

  it('serves RFC 8414 metadata, with no OpenID Connect members', async () => {
    const res = await fetch(`${server.url}/.well-known/oauth-authorization-server`);
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body.issuer).toBe(server.url);
    for (const oidc of ['userinfo_endpoint', 'id_token_signing_alg_values_supported', 'subject_types_supported', 'claims_supported']) {
      expect(body).not.toHaveProperty(oidc);
    }
    expect(body.scopes_supported ?? []).not.toContain('openid');
  });
});

/** One request to `endpoint` authenticated with `method` as the client registered for it; what client authentication did with it. */
async function attempt(endpoint: 'token' | 'revocation' | 'introspection', method: Method): Promise<Response> {
  const c = clients[method];
  const url = metadata[`${endpoint}_endpoint`] as string;
  const body: Record<string, string> =
    endpoint === 'token' ? (method === 'none' ? { grant_type: 'authorization_code', code: 'x', redirect_uri: 'http://127.0.0.1:8080/cb', code_verifier: 'a'.repeat(43) } : { grant_type: 'client_credentials' }) : { token: 'tsr_at_unknown' };
  if (method === 'client_secret_basic') return postForm(url, body, { authorization: basicAuth(c.client_id, c.client_secret!) });
  if (method === 'client_secret_post') return postForm(url, { ...body, client_id: c.client_id, client_secret: c.client_secret! });
  return postForm(url, { ...body, client_id: c.client_id });
}

describe('each endpoint accepts exactly the auth methods discovery lists (point 15)', () => {
  it('lists none for revocation (public clients revoke their tokens), not for introspection', () => {
    expect(metadata.token_endpoint_auth_methods_supported).toEqual(['client_secret_basic', 'client_secret_post', 'none']);
    expect(metadata.revocation_endpoint_auth_methods_supported).toEqual(['client_secret_basic', 'client_secret_post', 'none']);
    expect(metadata.introspection_endpoint_auth_methods_supported).toEqual(['client_secret_basic', 'client_secret_post']);
  });

  describe.each(['token', 'revocation', 'introspection'] as const)('%s endpoint', (endpoint) => {
    it.each(METHODS)('%s: authenticates when listed, 401 invalid_client when not', async (method) => {
      const listed = (metadata[`${endpoint}_endpoint_auth_methods_supported`] as string[]).includes(method);
      const res = await attempt(endpoint, method);
      const text = await res.text();
      const body = text ? JSON.parse(text) : {};
      if (listed) {
        // Authenticated: the request then succeeds, or fails on its own terms (an unknown code), never on the client.
        expect(res.status).not.toBe(401);
        expect(body.error).not.toBe('invalid_client');
        if (endpoint === 'introspection') expect(body).toEqual({ active: false });
      } else {
        expect(res.status).toBe(401);
        expect(body.error).toBe('invalid_client');
      }
    });
  });

  it('a public client revokes its own refresh token with none', async () => {
    // The refresh token comes from the code flow; revoking an unknown one is the same 200 (RFC 7009 §2.2),
    // so this asserts the endpoint authenticated the public client rather than refusing it.
    const res = await postForm(`${server.url}/oauth2/revoke`, { token: 'tsr_rt_unknown', token_type_hint: 'refresh_token', client_id: clients.none.client_id });
    expect(res.status).toBe(200);
  });
});

describe('with the code grant disabled, no public client can exist', () => {
  let ccOnly: RunningAuthServer;
  beforeAll(async () => {
    ccOnly = await startAuthServer({ env: { TESSERA_GRANTS: 'client_credentials' } });
  });
  afterAll(() => ccOnly.stop());

  it('lists none nowhere', async () => {
    const m = await (await fetch(`${ccOnly.url}/.well-known/oauth-authorization-server`)).json();
    expect(m.token_endpoint_auth_methods_supported).toEqual(['client_secret_basic', 'client_secret_post']);
    expect(m.introspection_endpoint_auth_methods_supported).toEqual(['client_secret_basic', 'client_secret_post']);
  });
});
