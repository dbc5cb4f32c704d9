// Keys and secrets at rest (issue 10, points 5 and 7): private signing keys and client-secret hashes are encrypted
// under the key-encryption key by default; what earlier versions stored in clear keeps working and is moved under
// it (at the next authentication, or by `keys re-encrypt`); the key-encryption key itself can be changed.
import { randomBytes } from 'node:crypto';
import { createDataSource, typeOrmStorage } from '@tessera/persistence';
import { composeAuthServer } from '@tessera/server';
import { BUILT_IN_PEPPER } from '@tessera/tokens';
import { createHmac } from 'node:crypto';
import pg from 'pg';
import { runCli } from '../../cli/src/cli.js';
import { basicAuth, postForm, registerClient, startAuthServer, TEST_KEY_ENCRYPTION_KEY, type RunningAuthServer } from './auth-server.harness.js';

type Registered = { client_id: string; client_secret: string };

const newKek = () => randomBytes(32).toString('base64url');

async function query<T = Record<string, unknown>>(databaseUrl: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  try {
    return (await db.query(sql, params)).rows as T[];
  } finally {
    await db.end();
  }
}

async function tokenFor(server: RunningAuthServer, c: Registered): Promise<Response> {
  return postForm(`${server.url}/oauth2/token`, { grant_type: 'client_credentials' }, { authorization: basicAuth(c.client_id, c.client_secret) });
}

async function introspect(server: RunningAuthServer, c: Registered, token: string): Promise<Record<string, unknown>> {
  const res = await postForm(`${server.url}/oauth2/introspect`, { token }, { authorization: basicAuth(c.client_id, c.client_secret) });
  expect(res.status).toBe(200);
  return res.json();
}

/** `npm run cli -- <args>` in-process, with exactly the environment given. */
async function cli(env: Record<string, string>, ...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runCli(args, { out: { write: (t: string) => (out += t) }, err: { write: (t: string) => (err += t) } }, env);
  return { code, out, err };
}

it('stores the private signing key and client-secret hashes encrypted, and cannot load them without the right key', async () => {
  const server = await startAuthServer();
  try {
    const c = await registerClient(server.url, { access_token_format: 'jwt' });
    expect((await tokenFor(server, c)).status).toBe(200);

    const [key] = await query<{ kid: string; private_key: string }>(server.databaseUrl, `SELECT kid, private_key FROM signing_keys`);
    expect(key.private_key).toMatch(/^enc:v2:[A-Za-z0-9_-]{11}:/);
    expect(key.private_key).not.toMatch(/"d"/);
    const [{ secret_hash }] = await query<{ secret_hash: string }>(server.databaseUrl, `SELECT secret_hash FROM clients WHERE client_id = $1`, [c.client_id]);
    expect(secret_hash).toMatch(/^hmac-sha256\$enc:v2:[A-Za-z0-9_-]{11}:/);
    // The digest under the public built-in pepper is not in the table.
    expect(secret_hash).not.toContain(createHmac('sha256', BUILT_IN_PEPPER).update(c.client_secret).digest('base64url'));

    // What a second instance started with a missing or wrong key meets at boot (main.ts prints it and exits).
    const ds = await createDataSource(server.databaseUrl).initialize();
    try {
      for (const [current, message] of [
        [undefined, /TESSERA_KEY_ENCRYPTION_KEY is missing/],
        [newKek(), /encrypted under another key-encryption key \([A-Za-z0-9_-]{11}\)|TESSERA_KEY_ENCRYPTION_KEY is wrong/],
      ] as const) {
        const config = { ...server.config, tokens: { ...server.config.tokens, keyEncryptionKey: current } };
        await expect(composeAuthServer(config, typeOrmStorage(ds))).rejects.toThrow(message);
      }
    } finally {
      await ds.destroy();
    }
  } finally {
    await server.stop();
  }
});

it('keeps what was stored in clear working, moves secrets under the key at authentication and everything with `keys re-encrypt`, then onto a new key', async () => {
  // An existing deployment: signing key and secret hashes stored in clear (TESSERA_ALLOW_PLAINTEXT_KEYS=1, as before).
  const before = await startAuthServer({ env: { TESSERA_KEY_ENCRYPTION_KEY: '', TESSERA_ALLOW_PLAINTEXT_KEYS: '1' } });
  const databaseUrl = before.databaseUrl;
  const active = await registerClient(before.url, { access_token_format: 'jwt' });
  const dormant = await registerClient(before.url);
  const jwt = (await (await tokenFor(before, active)).json()).access_token as string;
  const secretHash = async (c: Registered) =>
    (await query<{ secret_hash: string }>(databaseUrl, `SELECT secret_hash FROM clients WHERE client_id = $1`, [c.client_id]))[0].secret_hash;
  const privateKey = async () => (await query<{ private_key: string }>(databaseUrl, `SELECT private_key FROM signing_keys WHERE status = 'active'`))[0].private_key;
  expect(await privateKey()).toMatch(/^\{/);
  expect(await secretHash(active)).toMatch(/^hmac-sha256\$[A-Za-z0-9_-]{43}$/);
  await before.app.close();

  // Upgraded: a key-encryption key is set.
  // (The same issuer: the JWT names it.)
  const issuer = { TESSERA_ISSUER: before.config.issuer.url };
  const upgraded = await startAuthServer({ databaseUrl, env: issuer });
  try {
    // The plaintext key still signs and verifies; the old hashes still authenticate.
    expect(await introspect(upgraded, active, jwt)).toMatchObject({ active: true });
    expect((await tokenFor(upgraded, active)).status).toBe(200);
    expect(await privateKey()).toMatch(/^\{/);
    // The secret that authenticated is now stored sealed; the other one not yet.
    expect(await secretHash(active)).toMatch(/^hmac-sha256\$enc:v2:/);
    expect(await secretHash(dormant)).toMatch(/^hmac-sha256\$[A-Za-z0-9_-]{43}$/);

    const env = { DATABASE_URL: databaseUrl, TESSERA_KEY_ENCRYPTION_KEY: TEST_KEY_ENCRYPTION_KEY };
    const reEncrypted = await cli(env, 'keys', 're-encrypt', '--json');
    expect(reEncrypted).toMatchObject({ code: 0, err: '' });
    expect(JSON.parse(reEncrypted.out)).toEqual({ signing_keys: 1, client_secrets: 1, unchanged: 1, failed: [] });
    expect(await privateKey()).toMatch(/^enc:v2:/);
    expect(await secretHash(dormant)).toMatch(/^hmac-sha256\$enc:v2:/);
    // Nothing left to do the second time.
    expect(JSON.parse((await cli(env, 'keys', 're-encrypt', '--json')).out)).toEqual({ signing_keys: 0, client_secrets: 0, unchanged: 3, failed: [] });
    // The running server still signs (its key is loaded), and the sealed secret of the dormant client authenticates.
    expect((await tokenFor(upgraded, active)).status).toBe(200);
    expect((await tokenFor(upgraded, dormant)).status).toBe(200);
  } finally {
    await upgraded.app.close();
  }

  // A new key-encryption key: servers and CLI get the new one, and the old one as the previous key.
  const next = newKek();
  const rotatedEnv = { TESSERA_KEY_ENCRYPTION_KEY: next, TESSERA_PREVIOUS_KEY_ENCRYPTION_KEY: TEST_KEY_ENCRYPTION_KEY };
  const moved = await cli({ DATABASE_URL: databaseUrl, ...rotatedEnv }, 'keys', 're-encrypt');
  expect(moved).toMatchObject({ code: 0, out: expect.stringMatching(/^Re-encrypted 1 signing key\(s\) and 2 client-secret hash\(es\) under key-encryption key [A-Za-z0-9_-]{11}; 0 already were\.\n$/) });

  // Once moved, the new key alone is enough.
  const after = await startAuthServer({ databaseUrl, env: { ...issuer, TESSERA_KEY_ENCRYPTION_KEY: next } });
  try {
    expect(await introspect(after, active, jwt)).toMatchObject({ active: true });
    expect((await tokenFor(after, dormant)).status).toBe(200);
  } finally {
    await after.stop();
  }
  // Without it, the CLI says so and changes nothing.
  expect(await cli({ DATABASE_URL: databaseUrl, TESSERA_ALLOW_PLAINTEXT_KEYS: '1' }, 'keys', 're-encrypt')).toMatchObject({
    code: 2,
    err: 'error: set TESSERA_KEY_ENCRYPTION_KEY: the key to encrypt under\n',
  });
});
