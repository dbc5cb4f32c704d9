// Changes made by another process (the operator CLI, another instance) reach this server's caches at once.
import { createDataSource, typeOrmStorage, PostgresChangeFeed, TypeOrmClientRepository } from '@tessera/persistence';
import { composeAdministration } from '@tessera/server';
import { decodeProtectedHeader } from 'jose';
import type { DataSource } from 'typeorm';
import { basicAuth, postForm, registerClient, startAuthServer, type RunningAuthServer } from './auth-server.harness.js';

let server: RunningAuthServer;
let other: DataSource;
beforeAll(async () => {
  server = await startAuthServer();
  other = await createDataSource(server.databaseUrl).initialize();
});
afterAll(async () => {
  await other.destroy();
  await server.stop();
});

const token = (c: { client_id: string; client_secret: string }) =>
  postForm(`${server.url}/oauth2/token`, { grant_type: 'client_credentials' }, { authorization: basicAuth(c.client_id, c.client_secret) });

async function eventually(check: () => Promise<boolean>, ms = 3000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

it('a client disabled by another process is refused at once, and its tokens are inactive', async () => {
  const c = await registerClient(server.url, { access_token_format: 'jwt', resources: ['https://api.example'] });
  const rs = await registerClient(server.url, { scope: '', resource_server_for: ['https://api.example'] });
  const { access_token } = await (await token(c)).json(); // the client is now cached
  await new TypeOrmClientRepository(other).update(c.client_id, { disabledAt: new Date() }, new Date());
  await eventually(async () => (await token(c)).status === 401);
  const introspected = await postForm(`${server.url}/oauth2/introspect`, { token: access_token }, { authorization: basicAuth(rs.client_id, rs.client_secret) });
  expect(await introspected.json()).toEqual({ active: false });
});

it('a key rotated by another process signs new tokens, and the retired key stays published', async () => {
  const c = await registerClient(server.url, { access_token_format: 'jwt', resources: ['https://api.example'] });
  const rs = await registerClient(server.url, { scope: '', resource_server_for: ['https://api.example'] });
  const before = (await (await token(c)).json()).access_token;
  const oldKid = decodeProtectedHeader(before).kid;

  const feed = new PostgresChangeFeed({ url: server.databaseUrl });
  await feed.start();
  const keys = composeAdministration(server.config, typeOrmStorage(other, { changes: feed })).keySet('EdDSA');
  await keys.init();
  await keys.rotate('EdDSA');
  keys.close();
  await feed.close();

  await eventually(async () => decodeProtectedHeader((await (await token(c)).json()).access_token).alg === 'EdDSA');
  const jwks = await (await fetch(`${server.url}/.well-known/jwks.json`)).json();
  expect(jwks.keys.map((k: { kid: string; alg: string }) => k.alg).sort()).toEqual(['ES256', 'EdDSA']);
  expect(jwks.keys.map((k: { kid: string }) => k.kid)).toContain(oldKid);
  const metadata = await (await fetch(`${server.url}/.well-known/oauth-authorization-server`)).json();
  expect(metadata.access_token_signing_alg_values_supported.sort()).toEqual(['ES256', 'EdDSA']);
  const introspect = await postForm(`${server.url}/oauth2/introspect`, { token: before }, { authorization: basicAuth(rs.client_id, rs.client_secret) });
  expect((await introspect.json()).active).toBe(true);
});
