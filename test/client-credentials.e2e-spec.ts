// Tessera driven by a third-party OAuth client library (oauth4webapi), as a client would, for both token formats.
import * as oauth from 'oauth4webapi';
import { registerClient, startAuthServer, type RunningAuthServer } from '../apps/auth-server/test/auth-server.harness.js';

const API = 'https://api.example';
let server: RunningAuthServer;
let as: oauth.AuthorizationServer;
const insecure = { [oauth.allowInsecureRequests]: true };

beforeAll(async () => {
  server = await startAuthServer();
  const issuer = new URL(server.url);
  as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { ...insecure, algorithm: 'oauth2' }));
});
afterAll(() => server.stop());

describe.each(['opaque', 'jwt'] as const)('%s access tokens through oauth4webapi', (format) => {
  let client: oauth.Client;
  let auth: oauth.ClientAuth;
  let resourceServer: oauth.Client;
  let rsAuth: oauth.ClientAuth;

  beforeAll(async () => {
    const c = await registerClient(server.url, { access_token_format: format, scope: 'notes:read notes:write', resources: [API] });
    client = { client_id: c.client_id };
    auth = oauth.ClientSecretBasic(c.client_secret);
    const rs = await registerClient(server.url, { client_name: 'api', scope: '', token_endpoint_auth_method: 'client_secret_post', resource_server_for: [API] });
    resourceServer = { client_id: rs.client_id };
    rsAuth = oauth.ClientSecretPost(rs.client_secret);
  });

  const getToken = async (params: Record<string, string>) =>
    oauth.processClientCredentialsResponse(as, client, await oauth.clientCredentialsGrantRequest(as, client, auth, params, insecure));

  it('discovers the server', () => {
    expect(as.issuer).toBe(server.url);
    expect(as.grant_types_supported).toEqual(['client_credentials', 'authorization_code', 'refresh_token']);
  });

  it('gets, introspects and revokes a token', async () => {
    const token = await getToken({ scope: 'notes:read', resource: API });
    expect(token.token_type).toBe('bearer');
    expect(token.scope).toBe('notes:read');
    expect(token.expires_in).toBe(3600);

    const introspect = async () =>
      oauth.processIntrospectionResponse(as, resourceServer, await oauth.introspectionRequest(as, resourceServer, rsAuth, token.access_token, insecure));
    const active = await introspect();
    expect(active).toMatchObject({ active: true, client_id: client.client_id, sub: client.client_id, scope: 'notes:read', aud: API, iss: server.url });

    await oauth.processRevocationResponse(await oauth.revocationRequest(as, client, auth, token.access_token, insecure));
    expect(await introspect()).toEqual({ active: false });
  });

  it('reports invalid_scope as an OAuth error the library understands', async () => {
    const error = await getToken({ scope: 'admin' }).catch((e) => e);
    expect(error).toBeInstanceOf(oauth.ResponseBodyError);
    expect(error).toMatchObject({ error: 'invalid_scope', status: 400 });
  });

  it('reports a wrong secret as invalid_client', async () => {
    const response = await oauth.clientCredentialsGrantRequest(as, client, oauth.ClientSecretBasic('wrong'), {}, insecure);
    const error = await oauth.processClientCredentialsResponse(as, client, response).catch((e) => e);
    // RFC 6749 §5.2: 401 with a Basic challenge, which the library surfaces before the body.
    expect(error).toBeInstanceOf(oauth.WWWAuthenticateChallengeError);
    expect(error).toMatchObject({ status: 401, cause: [{ scheme: 'basic', parameters: { realm: 'tessera' } }] });
    expect(await error.response.json()).toEqual({ error: 'invalid_client', error_description: 'client authentication failed' });
  });

  if (format === 'jwt') {
    it('is a valid RFC 9068 access token for a third-party resource-server validator', async () => {
      const token = await getToken({ scope: 'notes:read', resource: API });
      const request = new Request(API, { headers: { authorization: `Bearer ${token.access_token}` } });
      const claims = await oauth.validateJwtAccessToken(as, request, API, insecure);
      expect(claims).toMatchObject({ iss: server.url, aud: API, sub: client.client_id, client_id: client.client_id, scope: 'notes:read' });
      const wrongAudience = await oauth.validateJwtAccessToken(as, request.clone(), 'https://other.example', insecure).catch((e) => e);
      expect(wrongAudience).toBeInstanceOf(Error);
    });
  }
});
