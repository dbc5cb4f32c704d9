// Every signing algorithm the auth server offers is accepted by TokenGuard, on both platforms.
import { decodeProtectedHeader } from 'jose';
import { basicAuth, postForm, registerClient, startAuthServer } from '../../../apps/auth-server/test/auth-server.harness.js';
import { AUDIENCE, startResourceApp, type Platform } from './resource-app.harness.js';

describe.each(['EdDSA', 'RS256'])('an auth server signing with %s', (alg) => {
  it.each<Platform>(['fastify', 'express'])('issues JWTs TokenGuard accepts on %s', async (platform) => {
    const server = await startAuthServer({ env: { TESSERA_SIGNING_ALG: alg } });
    const app = await startResourceApp(platform, { issuer: server.url, audience: AUDIENCE });
    try {
      const client = await registerClient(server.url, { access_token_format: 'jwt', resources: [AUDIENCE], scope: 'read' });
      const res = await postForm(`${server.url}/oauth2/token`, { grant_type: 'client_credentials' }, { authorization: basicAuth(client.client_id, client.client_secret) });
      const { access_token } = await res.json();
      expect(decodeProtectedHeader(access_token).alg).toBe(alg);
      const ok = await fetch(`${app.url}/reports`, { headers: { authorization: `Bearer ${access_token}` } });
      expect({ status: ok.status, body: ok.status === 200 ? 'ok' : await ok.clone().text() }).toEqual({ status: 200, body: 'ok' });
      expect((await ok.json()).format).toBe('jwt');
      const [h, p, sig] = access_token.split('.');
      const tampered = await fetch(`${app.url}/reports`, { headers: { authorization: `Bearer ${h}.${p}.${sig.slice(0, -4)}AAAA` } });
      expect(tampered.status).toBe(401);
    } finally {
      await app.close();
      await server.stop();
    }
  });
});
