import { decodeJwt, generateKeyPair, SignJWT } from 'jose';
import { freePort, TcpProxy } from '@tessera/testing';
import { basicAuth, postForm, registerClient, startAuthServer, type RunningAuthServer } from '../../../apps/auth-server/test/auth-server.harness.js';
import { AUDIENCE, startResourceApp, type Platform, type RunningResourceApp } from './resource-app.harness.js';

type Client = { client_id: string; client_secret: string };

/**
 * The auth server is reached through a TCP proxy (its issuer is the proxy's
 * URL), so that stopping the proxy cuts it off from the resource server only:
 * tokens can still be issued directly while the resource server sees an outage.
 */
describe.each<Platform>(['fastify', 'express'])('TokenGuard on %s when the auth server is unreachable', (platform) => {
  let server: RunningAuthServer;
  let proxy: TcpProxy;
  let issuer: string;
  let introspector: Client;
  let jwtClient: Client;
  let opaqueClient: Client;
  let app: RunningResourceApp | undefined;

  beforeAll(async () => {
    const proxyPort = await freePort();
    issuer = `http://127.0.0.1:${proxyPort}`;
    server = await startAuthServer({ env: { TESSERA_ISSUER: issuer } });
    proxy = new TcpProxy({ host: '127.0.0.1', port: Number(new URL(server.url).port) });
    proxy.port = proxyPort;
    await proxy.start();
    introspector = await registerClient(server.url, { client_name: 'reports api', scope: '', resource_server_for: [AUDIENCE] });
    jwtClient = await registerClient(server.url, { access_token_format: 'jwt', resources: [AUDIENCE] });
    opaqueClient = await registerClient(server.url, { access_token_format: 'opaque', resources: [AUDIENCE] });
  });
  afterEach(async () => {
    await app?.close();
    app = undefined;
    await proxy.start().catch(() => undefined); // already listening is fine
  });
  afterAll(async () => {
    await proxy.stop();
    await server.stop();
  });

  const startApp = async () =>
    (app = await startResourceApp(platform, {
      issuer,
      audience: AUDIENCE,
      introspection: { clientId: introspector.client_id, clientSecret: introspector.client_secret },
      jwksRefetchMinIntervalSeconds: 0,
    }));
  const issue = async (client: Client) =>
    (await (await postForm(`${server.url}/oauth2/token`, { grant_type: 'client_credentials', scope: 'read' }, { authorization: basicAuth(client.client_id, client.client_secret) })).json())
      .access_token as string;
  const call = (token: string) => fetch(`${app!.url}/reports`, { headers: { authorization: `Bearer ${token}` } });

  async function expectUnavailable(res: Response) {
    expect({ status: res.status, body: await res.json() }).toEqual({
      status: 503,
      body: { error: 'temporarily_unavailable', error_description: 'the service is temporarily unavailable, try again later' },
    });
    expect(res.headers.get('retry-after')).toBe('5');
    expect(res.headers.get('cache-control')).toBe('no-store');
  }

  it('starts without the auth server, answers 503 meanwhile, and recovers by itself', async () => {
    await proxy.stop();
    await startApp();
    const [jwt, opaque] = [await issue(jwtClient), await issue(opaqueClient)];
    await expectUnavailable(await call(jwt));
    await expectUnavailable(await call(opaque));

    await proxy.start();
    expect((await call(jwt)).status).toBe(200);
    expect((await call(opaque)).status).toBe(200);
  });

  it('keeps accepting JWTs on cached keys and cached opaque tokens; an uncached opaque token gets 503', async () => {
    await startApp();
    const [cachedOpaque, uncachedOpaque] = [await issue(opaqueClient), await issue(opaqueClient)];
    expect((await call(await issue(jwtClient))).status).toBe(200);
    expect((await call(cachedOpaque)).status).toBe(200);

    await proxy.stop();
    const freshJwt = await issue(jwtClient); // never seen by the resource server: verified with the cached keys
    expect((await call(freshJwt)).status).toBe(200);
    expect((await call(cachedOpaque)).status).toBe(200);
    await expectUnavailable(await call(uncachedOpaque));
    // An unknown kid cannot be told from a new key while the JWKS is out of reach.
    const { privateKey } = await generateKeyPair('ES256');
    const unknownKey = await new SignJWT(decodeJwt(freshJwt)).setProtectedHeader({ alg: 'ES256', kid: 'not-in-the-jwks', typ: 'at+jwt' }).sign(privateKey);
    await expectUnavailable(await call(unknownKey));

    await proxy.start();
    expect((await call(uncachedOpaque)).status).toBe(200);
    const refused = await call(unknownKey);
    expect(refused.status).toBe(401);
    expect(await refused.json()).toEqual({ error: 'invalid_token', error_description: 'unknown signing key' });
  });
});
