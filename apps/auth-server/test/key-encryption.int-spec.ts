import { LocalChangeFeed, SystemClock } from '@tessera/oauth-core';
import { createDataSource, TypeOrmSigningKeyRepository } from '@tessera/persistence';
import { KeySet } from '@tessera/tokens';
import pg from 'pg';
import { basicAuth, postForm, registerClient, startAuthServer } from './auth-server.harness.js';

const KEY = 'a-key-encryption-key-of-at-least-32-chars';

it('keeps the private signing key encrypted at rest, and cannot load it without the right key', async () => {
  const server = await startAuthServer({ env: { TESSERA_KEY_ENCRYPTION_KEY: KEY } });
  const db = new pg.Client({ connectionString: server.databaseUrl });
  try {
    const c = await registerClient(server.url, { access_token_format: 'jwt' });
    const res = await postForm(`${server.url}/oauth2/token`, { grant_type: 'client_credentials' }, { authorization: basicAuth(c.client_id, c.client_secret) });
    expect(res.status).toBe(200);

    await db.connect();
    const { rows } = await db.query(`SELECT private_key FROM signing_keys`);
    expect(rows).toHaveLength(1);
    expect(rows[0].private_key).toMatch(/^enc:v1:/);
    expect(rows[0].private_key).not.toMatch(/"d"/);

    // What a second instance started with a missing or wrong key meets at boot (main.ts prints it and exits).
    const ds = await createDataSource(server.databaseUrl).initialize();
    try {
      for (const [secret, message] of [
        [undefined, /TESSERA_KEY_ENCRYPTION_KEY is missing/],
        ['another-key-encryption-key-of-32-chars!', /TESSERA_KEY_ENCRYPTION_KEY is wrong/],
      ] as const) {
        const keys = new KeySet(new TypeOrmSigningKeyRepository(ds), new LocalChangeFeed(), new SystemClock(), {
          algorithm: 'ES256',
          encryptionSecret: secret,
          maxTokenTtlSeconds: 3600,
        });
        await expect(keys.init()).rejects.toThrow(message);
      }
    } finally {
      await ds.destroy();
    }
  } finally {
    await db.end();
    await server.stop();
  }
});
