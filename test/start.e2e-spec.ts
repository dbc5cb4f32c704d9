// How Tessera is run: the docker-compose file, and the operator CLI (npm run cli) against a real database.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  createDataSource,
  migrations,
  TypeOrmConsentRepository,
  TypeOrmRefreshTokenRepository,
  TypeOrmRevocationRepository,
} from '@tessera/persistence';
import { createTestDatabase, someClaims } from '@tessera/testing';
import { ClientSecretHasher, KeyEncryptionKeys, ScryptPasswordHasher } from '@tessera/tokens';
import pg from 'pg';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

describe('docker-compose.yml', () => {
  // Debian's docker-compose 1.29 validates a file without a Docker engine (apt-get install -y docker-compose).
  const available = spawnSync('docker-compose', ['version'], { stdio: 'ignore' }).status === 0;
  const test = available ? it : it.skip;
  const note = available ? '' : ' (SKIPPED: no docker-compose binary; apt-get install -y docker-compose)';

  test(`is valid for docker-compose config${note}`, () => {
    const result = spawnSync('docker-compose', ['-f', 'docker-compose.yml', 'config', '-q'], { cwd: ROOT, encoding: 'utf8' });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
  });
});

describe('the key-encryption key of the embedded default (scripts/lib/key-encryption-key.mjs)', () => {
  const MODULE = pathToFileURL(fileURLToPath(new URL('../scripts/lib/key-encryption-key.mjs', import.meta.url))).href;
  /** What npm start and npm run cli call, on a file of this test's. */
  const ensure = (file: string) => {
    const result = spawnSync(
      process.execPath,
      ['--input-type=module', '-e', `import { ensureEmbeddedKek } from '${MODULE}'; console.log(JSON.stringify(ensureEmbeddedKek(process.argv[1])))`, file],
      { encoding: 'utf8' },
    );
    return { status: result.status, stderr: result.stderr, value: result.status === 0 ? JSON.parse(result.stdout) : null };
  };
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'tessera-kek-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('is generated on the first start into a file only its owner may read, then reused', () => {
    const file = join(dir, '.tessera', 'key-encryption-key');
    const first = ensure(file);
    expect(first).toMatchObject({ status: 0, value: { key: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/), created: true } });
    expect(Buffer.from(first.value.key, 'base64url')).toHaveLength(32);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, 'utf8')).toBe(`${first.value.key}\n`);
    expect(ensure(file)).toMatchObject({ status: 0, value: { key: first.value.key, created: false } });
  });

  it('refuses a file others may read, or one that holds no key', () => {
    const file = join(dir, 'key-encryption-key');
    writeFileSync(file, `${randomBytes(32).toString('base64url')}\n`, { mode: 0o644 });
    chmodSync(file, 0o644);
    expect(ensure(file)).toMatchObject({ status: 1, stderr: expect.stringContaining(`${file} is readable by others (mode 644): run chmod 600 ${file}`) });
    chmodSync(file, 0o600);
    writeFileSync(file, 'not a key\n');
    expect(ensure(file)).toMatchObject({ status: 1, stderr: expect.stringContaining('does not hold a key-encryption key') });
  });
});

describe('operator CLI (npm run cli) on a real database', () => {
  const PEPPER = 'cli-e2e-pepper-0123456789';
  const KEK = randomBytes(32).toString('base64url');
  let db: Awaited<ReturnType<typeof createTestDatabase>>;

  /** Runs scripts/cli.mjs with only the variables given (no developer TESSERA_* leaking in). */
  const cli = (...args: string[]) => cliWithInput(undefined, ...args);
  /** With `input`, standard input is a pipe carrying it, then closed. */
  const cliWithInput = (input: string | undefined, ...args: string[]) =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
      const child = spawn(process.execPath, ['scripts/cli.mjs', ...args], {
        cwd: ROOT,
        env: { PATH: process.env.PATH, HOME: process.env.HOME, DATABASE_URL: db?.url, TESSERA_CLIENT_SECRET_PEPPER: PEPPER, TESSERA_KEY_ENCRYPTION_KEY: KEK },
      });
      if (input !== undefined) child.stdin.end(input);
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
  const json = async (...args: string[]) => {
    const result = await cli(...args, '--json');
    if (result.code !== 0) throw new Error(`cli ${args.join(' ')} exited ${result.code}: ${result.stderr}`);
    return JSON.parse(result.stdout);
  };
  const storedSecretHash = async (clientId: string): Promise<string> => {
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      return (await client.query('SELECT secret_hash FROM clients WHERE client_id = $1', [clientId])).rows[0].secret_hash;
    } finally {
      await client.end();
    }
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    // The launcher builds the CLI first when dist is missing or older than its sources (a few seconds).
    const help = await cli('--help');
    if (help.code !== 0) throw new Error(`building or running the CLI failed (exit ${help.code}):\n${help.stderr}${help.stdout}`);
    expect(help.stdout).toContain('clients create');
  }, 180_000);
  afterAll(() => db?.drop());

  it('migrates, then creates, lists, rotates and disables a client', async () => {
    const migrated = await cli('migrate');
    expect(migrated).toMatchObject({ code: 0, stdout: `Applied ${migrations.length} migration(s).\n` });
    expect((await cli('migrate')).stdout).toBe('The database schema is up to date.\n');

    const created = await json('clients', 'create', '--name', 'Billing', '--scope', 'invoices:read invoices:write', '--format', 'jwt', '--ttl', '600', '--resource', 'https://api.example');
    expect(created).toMatchObject({
      client_name: 'Billing',
      scope: 'invoices:read invoices:write',
      grant_types: ['client_credentials'],
      token_endpoint_auth_method: 'client_secret_basic',
      access_token_format: 'jwt',
      access_token_lifetime: 600,
      resources: ['https://api.example'],
    });
    expect(created.client_secret).toMatch(/^tsr_cs_/);
    // Hashed with the server's pepper and sealed under its key-encryption key, as the server will check it.
    const hasher = new ClientSecretHasher({ pepper: PEPPER, keys: new KeyEncryptionKeys({ current: KEK }) });
    expect(await storedSecretHash(created.client_id)).toMatch(/^hmac-sha256\$enc:v2:/);
    expect(hasher.verify(created.client_secret, await storedSecretHash(created.client_id))).toBe(true);

    const listed = await json('clients', 'list');
    expect(listed).toEqual([expect.objectContaining({ client_id: created.client_id, client_name: 'Billing', disabled_at: null })]);
    expect(listed[0]).not.toHaveProperty('client_secret');
    expect(JSON.stringify(listed)).not.toMatch(/tsr_cs_|hmac-sha256/);

    const rotated = await json('clients', 'rotate-secret', created.client_id, '--revoke-tokens');
    expect(rotated).toMatchObject({ client_id: created.client_id, tokens_revoked: true });
    expect(rotated.client_secret).not.toBe(created.client_secret);
    const hash = await storedSecretHash(created.client_id);
    expect(hasher.verify(rotated.client_secret, hash)).toBe(true);
    expect(hasher.verify(created.client_secret, hash)).toBe(false);

    const disabled = await cli('clients', 'disable', created.client_id);
    expect(disabled).toMatchObject({ code: 0, stdout: `Disabled client ${created.client_id}; tokens issued to it no longer work.\n` });
    // The operator's change is audited, on standard error (its standard output is the answer), as one JSON line.
    expect(disabled.stderr.split('\n').filter(Boolean).map((l) => JSON.parse(l))).toEqual([
      expect.objectContaining({ app: 'cli', audit: true, event: 'client.disabled', client_id: created.client_id, via: 'operator' }),
    ]);
    const [after] = await json('clients', 'list');
    expect(after.disabled_at).toEqual(expect.any(String));

    const table = await cli('clients', 'list');
    expect(table.stdout).toMatch(new RegExp(`^${created.client_id}\\s+Billing\\s+disabled\\s+jwt\\s+600s`, 'm'));
  }, 60_000);

  it('creates a resource server (--resource-server-for), and refuses a bad resource identifier', async () => {
    const created = await json('clients', 'create', '--name', 'Reports API', '--scope', '', '--resource-server-for', 'https://reports.example');
    expect(created).toMatchObject({ client_name: 'Reports API', resource_server_for: ['https://reports.example'], token_endpoint_auth_method: 'client_secret_basic' });
    expect(await cli('clients', 'create', '--name', 'x', '--scope', '', '--resource-server-for', 'not-a-uri')).toMatchObject({
      code: 1,
      stderr: 'error: resource_server_for: "not-a-uri" is not an absolute URI without a fragment (--resource-server-for)\n',
    });

    // An existing client (one created before the role existed) gets it, and loses it again.
    const plain = await json('clients', 'create', '--name', 'Older API', '--scope', '');
    expect(plain).not.toHaveProperty('resource_server_for');
    expect(await json('clients', 'set-resource-server', plain.client_id, '--resource-server-for', 'https://older.example')).toMatchObject({
      client_id: plain.client_id,
      resource_server_for: ['https://older.example'],
    });
    expect(await json('clients', 'set-resource-server', plain.client_id, '--none')).not.toHaveProperty('resource_server_for');
    expect(await cli('clients', 'set-resource-server', plain.client_id)).toMatchObject({ code: 2 });
  }, 60_000);

  it('validates like the registration endpoint and fails clearly', async () => {
    expect(await cli('clients', 'create', '--name', 'x', '--scope', 'a  b')).toMatchObject({
      code: 1,
      stderr: 'error: scope must be scope tokens separated by single spaces (--scope)\n',
    });
    expect(await cli('clients', 'create', '--name', 'x', '--scope', 'a', '--auth-method', 'none')).toMatchObject({ code: 1 });
    expect(await cli('clients', 'disable', 'no-such-client')).toMatchObject({ code: 1, stderr: 'error: no client no-such-client (see `clients list`)\n' });
    expect(await cli('clients', 'create', '--name', 'x', '--bogus')).toMatchObject({ code: 2 });
    expect(await cli('clients', 'disable')).toMatchObject({ code: 2 });
  }, 60_000);

  it('rotates the signing key', async () => {
    const first = await json('keys', 'rotate', '--alg', 'EdDSA');
    const second = await json('keys', 'rotate');
    expect(second.alg).toBe('ES256');
    expect(second.published).toEqual([
      { kid: second.active_kid, alg: 'ES256', status: 'active', publish_until: null },
      expect.objectContaining({ kid: first.active_kid, alg: 'EdDSA', status: 'retired' }),
    ]);
    // A key that may be compromised: unpublished at once, and every token it signed revoked through the revocation log.
    const third = await json('keys', 'rotate', '--revoke-tokens');
    expect(third.published.map((k: { kid: string }) => k.kid)).toEqual(expect.arrayContaining([third.active_kid, first.active_kid]));
    expect(third.published.map((k: { kid: string }) => k.kid)).not.toContain(second.active_kid);
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      const { rows } = await client.query(`SELECT kind, kid FROM revocations WHERE kind = 'key'`);
      expect(rows).toEqual([{ kind: 'key', kid: second.active_kid }]);
    } finally {
      await client.end();
    }
  }, 60_000);

  it('creates, lists, re-passwords and disables users; a disabled user\'s tokens are revoked at every client', async () => {
    const query = async (sql: string, params: unknown[] = []) => {
      const client = new pg.Client({ connectionString: db.url });
      await client.connect();
      try {
        return (await client.query(sql, params)).rows;
      } finally {
        await client.end();
      }
    };
    const alice = await json('users', 'create', 'Alice', '--password', 'correct horse');
    expect(alice).toEqual({ id: expect.stringMatching(/^[0-9a-f-]{36}$/), username: 'Alice', created_at: expect.any(String), disabled_at: null });
    const bob = await cliWithInput('battery staple\n', 'users', 'create', 'bob');
    expect(bob).toMatchObject({ code: 0, stdout: expect.stringMatching(/^Created user bob \(id [0-9a-f-]{36}\)\.\n$/) });
    expect(await cli('users', 'create', 'ALICE', '--password', 'correct horse')).toMatchObject({ code: 1, stderr: expect.stringContaining('username "ALICE" is taken') });
    expect(await cli('users', 'create', 'carol', '--password', 'short')).toMatchObject({ code: 1, stderr: expect.stringContaining('8 to 1024') });
    expect((await json('users', 'list')).map((u: { username: string }) => u.username)).toEqual(['Alice', 'bob']);

    const [{ password_hash: before }] = await query('SELECT password_hash FROM users WHERE id = $1', [alice.id]);
    expect(before).toMatch(/^scrypt\$ln=1[5-9],r=8,p=1\$/);
    expect(await cliWithInput('new password here\n', 'users', 'set-password', 'alice', '--password', '-')).toMatchObject({ code: 0 });
    const [{ password_hash: after }] = await query('SELECT password_hash FROM users WHERE id = $1', [alice.id]);
    expect(await new ScryptPasswordHasher().verify('new password here', after)).toBe(true);
    expect(await new ScryptPasswordHasher().verify('correct horse', after)).toBe(false);

    const web = await json('clients', 'create', '--name', 'web', '--scope', 'read', '--redirect-uri', 'https://app.example/cb', '--grant-types', 'authorization_code,refresh_token');
    expect(web).toMatchObject({ grant_types: ['authorization_code', 'refresh_token'], redirect_uris: ['https://app.example/cb'] });
    const spa = await json('clients', 'create', '--name', 'spa', '--scope', 'read', '--redirect-uri', 'http://127.0.0.1:8080/cb', '--auth-method', 'none');
    expect(spa).not.toHaveProperty('client_secret');
    expect(spa).toMatchObject({ token_endpoint_auth_method: 'none', grant_types: ['authorization_code'] });

    expect(await cli('users', 'disable', 'alice')).toMatchObject({ code: 0, stdout: 'Disabled user Alice; their tokens no longer work.\n' });
    const marks = await query(`SELECT client_id FROM revocations WHERE kind = 'issued-before' AND subject = $1 ORDER BY client_id`, [alice.id]);
    const clientIds = (await query('SELECT client_id FROM clients ORDER BY client_id')).map((r) => r.client_id);
    expect(marks.map((r) => r.client_id)).toEqual(clientIds);
    expect(clientIds).toEqual(expect.arrayContaining([web.client_id, spa.client_id]));
    expect((await json('users', 'list')).find((u: { id: string }) => u.id === alice.id).disabled_at).toEqual(expect.any(String));
    expect(await cli('users', 'disable', 'nobody')).toMatchObject({ code: 1, stderr: 'error: no user nobody\n' });
  });

  it("revokes a user's consent at one client, then at every client: asked again, and their tokens there stop working", async () => {
    const dataSource = await createDataSource(db.url).initialize();
    try {
      const consents = new TypeOrmConsentRepository(dataSource);
      const refreshTokens = new TypeOrmRefreshTokenRepository(dataSource);
      const revocations = new TypeOrmRevocationRepository(dataSource);
      const dora = await json('users', 'create', 'dora', '--password', 'correct horse');
      const webClient = ['--scope', 'read', '--redirect-uri', 'https://app.example/cb', '--grant-types', 'authorization_code,refresh_token'];
      const mail = (await json('clients', 'create', '--name', 'mail', ...webClient)).client_id;
      const docs = (await json('clients', 'create', '--name', 'docs', ...webClient)).client_id;
      const now = new Date();
      for (const clientId of [mail, docs]) {
        await consents.grant({ userId: dora.id, clientId, scopes: ['read'], resources: [], grantedAt: now });
        const grantId = randomUUID();
        await refreshTokens.insert(`rt-${clientId}`, {
          familyId: grantId,
          grantId,
          clientId,
          subject: dora.id,
          scope: ['read'],
          audience: [],
          issuedAt: now,
          familyIssuedAt: now,
          expiresAt: new Date(now.getTime() + 86_400_000),
        });
      }
      const issuedBefore = Math.floor(Date.now() / 1000);
      const isRevoked = (clientId: string, iat: number) => revocations.isRevoked(someClaims({ clientId, sub: dora.id, iat }));
      const refreshRevoked = async (clientId: string) => (await refreshTokens.findByHash(`rt-${clientId}`))?.revokedAt !== null;

      expect(await cli('users', 'revoke-consent', 'dora', '--client', mail)).toMatchObject({
        code: 0,
        stdout: `Revoked dora's consent and tokens at client ${mail}.\n`,
      });
      const issuedAfter = Math.floor(Date.now() / 1000) + 1;
      expect(await consents.find(dora.id, mail)).toBeNull(); // the next authorization at mail asks again
      expect(await consents.find(dora.id, docs)).not.toBeNull();
      expect(await isRevoked(mail, issuedBefore)).toBe(true);
      expect(await isRevoked(mail, issuedAfter)).toBe(false);
      expect(await isRevoked(docs, issuedBefore)).toBe(false);
      expect([await refreshRevoked(mail), await refreshRevoked(docs)]).toEqual([true, false]);

      expect(await cli('users', 'revoke-consent', 'dora')).toMatchObject({
        code: 0,
        stdout: "Revoked dora's consent and tokens at every client (1 remembered consent(s)).\n",
      });
      expect(await consents.find(dora.id, docs)).toBeNull();
      expect(await isRevoked(docs, issuedBefore)).toBe(true);
      expect(await refreshRevoked(docs)).toBe(true);
      expect(await json('users', 'revoke-consent', 'dora', '--client', docs)).toEqual({ ...dora, client_id: docs, consents_revoked: 0 });

      expect(await cli('users', 'revoke-consent', 'nobody')).toMatchObject({ code: 1, stderr: 'error: no user nobody\n' });
      expect(await cli('users', 'revoke-consent', 'dora', '--client', 'no-such-client')).toMatchObject({
        code: 1,
        stderr: 'error: no client no-such-client\n',
      });
    } finally {
      await dataSource.destroy();
    }
  }, 60_000);
});