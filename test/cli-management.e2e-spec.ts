// The operator CLI's client, key and user management (npm run cli), against a real database: show, update, enable
// and delete clients, list keys, enable users; ids that start with '-'; and a reader that goes away (`| head -1`).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { createTestDatabase } from '@tessera/testing';
import { ClientSecretHasher, KeyEncryptionKeys } from '@tessera/tokens';
import pg from 'pg';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI_MAIN = 'dist/apps/cli/apps/cli/src/main.js';

describe('operator CLI: managing clients, keys and users', () => {
  const PEPPER = 'cli-e2e-pepper-0123456789';
  const KEK = randomBytes(32).toString('base64url');
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  const env = () => ({ PATH: process.env.PATH!, HOME: process.env.HOME!, DATABASE_URL: db.url, TESSERA_CLIENT_SECRET_PEPPER: PEPPER, TESSERA_KEY_ENCRYPTION_KEY: KEK });

  /** Runs `command` (an argv) with only the variables above; its standard output and error collected. */
  const run = (command: string[]) =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
      const child = spawn(command[0], command.slice(1), { cwd: ROOT, env: env() });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
  const cli = (...args: string[]) => run([process.execPath, 'scripts/cli.mjs', ...args]);
  /** With --json, given before any `--` (after it, everything is a positional). */
  const json = async (...args: string[]) => {
    const end = args.indexOf('--');
    const result = await cli(...(end < 0 ? [...args, '--json'] : [...args.slice(0, end), '--json', ...args.slice(end)]));
    if (result.code !== 0) throw new Error(`cli ${args.join(' ')} exited ${result.code}: ${result.stderr}`);
    return JSON.parse(result.stdout);
  };
  async function query<T = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<T[]> {
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      return (await client.query(sql, params)).rows as T[];
    } finally {
      await client.end();
    }
  }
  /** A client row as a registration would write it, with the id given (one a random id could be, e.g. starting with '-'). */
  const insertClient = (clientId: string, name: string) =>
    query(
      `INSERT INTO clients (client_id, client_name, grant_types, scopes, token_endpoint_auth_method, redirect_uris, access_token_format, resources)
       VALUES ($1, $2, '{client_credentials}', '{read}', 'client_secret_basic', '{}', 'opaque', '{}')`,
      [clientId, name],
    );

  beforeAll(async () => {
    db = await createTestDatabase();
    // The launcher builds the CLI first when dist is missing or older than its sources (a few seconds).
    const migrated = await cli('migrate');
    if (migrated.code !== 0) throw new Error(`building or running the CLI failed (exit ${migrated.code}):\n${migrated.stderr}${migrated.stdout}`);
  }, 180_000);
  afterAll(() => db?.drop());

  it('shows, updates, disables, enables and deletes a client', async () => {
    const created = await json('clients', 'create', '--name', 'Billing', '--scope', 'read write', '--format', 'jwt', '--ttl', '600');
    const id = created.client_id as string;

    const shown = await json('clients', 'show', id);
    expect(shown).toEqual({
      client_id: id,
      client_id_issued_at: created.client_id_issued_at,
      client_name: 'Billing',
      grant_types: ['client_credentials'],
      token_endpoint_auth_method: 'client_secret_basic',
      scope: 'read write',
      access_token_format: 'jwt',
      access_token_lifetime: 600,
      disabled_at: null,
      deleted_at: null,
      has_registration_access_token: false,
    });
    const human = await cli('clients', 'show', id);
    expect(human).toMatchObject({ code: 0, stderr: '' });
    expect(human.stdout).toContain(`  client_id:      ${id}\n  name:           Billing\n  status:         active\n`);
    expect(human.stdout).toContain('  self-managed:   no\n');
    expect(human.stdout).not.toContain('tsr_cs_');

    // Each flag given replaces that setting; the others stay.
    const updated = await json('clients', 'update', id, '--scope', 'read', '--format', 'opaque', '--resource', 'https://api.example');
    expect(updated).toEqual({ ...shown, scope: 'read', access_token_format: 'opaque', resources: ['https://api.example'] });
    expect(await json('clients', 'update', id, '--ttl', 'default')).not.toHaveProperty('access_token_lifetime');
    // The secret is kept.
    const hasher = new ClientSecretHasher({ pepper: PEPPER, keys: new KeyEncryptionKeys({ current: KEK }) });
    const [{ secret_hash }] = await query<{ secret_hash: string }>('SELECT secret_hash FROM clients WHERE client_id = $1', [id]);
    expect(hasher.verify(created.client_secret, secret_hash)).toBe(true);
    // Validated as at registration, said in terms of the flags.
    expect(await cli('clients', 'update', id, '--format', 'paper')).toMatchObject({ code: 1, stderr: 'error: access_token_format must be "opaque" or "jwt" (--format)\n' });
    expect(await cli('clients', 'update', id)).toMatchObject({ code: 2, stderr: expect.stringContaining('error: give at least one setting to change') });

    expect(await cli('clients', 'disable', id)).toMatchObject({ code: 0 });
    expect(await cli('clients', 'enable', id)).toMatchObject({ code: 0, stdout: `Enabled client ${id}; tokens revoked while it was disabled stay revoked.\n` });
    expect(await cli('clients', 'enable', id)).toMatchObject({ code: 0, stdout: `Client ${id} was not disabled.\n` });
    expect((await json('clients', 'show', id)).disabled_at).toBeNull();

    const marksBefore = await query(`SELECT 1 FROM revocations WHERE kind = 'issued-before' AND client_id = $1`, [id]);
    expect(await cli('clients', 'delete', id)).toMatchObject({
      code: 0,
      stdout: `Deleted client ${id}; it can no longer authenticate or be managed, and its tokens no longer work.\n`,
    });
    // Its tokens are revoked through the revocation log (the feed carries the mark), its secret dropped.
    expect(await query(`SELECT 1 FROM revocations WHERE kind = 'issued-before' AND client_id = $1`, [id])).toHaveLength(marksBefore.length + 1);
    expect(await query('SELECT secret_hash FROM clients WHERE client_id = $1', [id])).toEqual([{ secret_hash: null }]);
    expect(await json('clients', 'show', id)).toMatchObject({ disabled_at: expect.any(String), deleted_at: expect.any(String) });
    expect((await cli('clients', 'list')).stdout).toMatch(new RegExp(`^${id}\\s+Billing\\s+deleted\\s`, 'm'));
    expect(await cli('clients', 'enable', id)).toMatchObject({ code: 1, stderr: `error: client ${id} was deleted; it cannot be enabled again\n` });
    expect(await cli('clients', 'delete', id)).toMatchObject({ code: 1, stderr: expect.stringMatching(/^error: client \S+ was already deleted/) });
    expect(await cli('clients', 'update', id, '--name', 'x')).toMatchObject({ code: 1, stderr: `error: client ${id} was deleted\n` });
    expect(await cli('clients', 'rotate-secret', id)).toMatchObject({ code: 1, stderr: `error: client ${id} was deleted\n` });
    expect(await cli('clients', 'show', 'no-such-client')).toMatchObject({ code: 1, stderr: 'error: no client no-such-client (see `clients list`)\n' });
  }, 240_000);

  it('gives a client that stops being public a new secret, printed once', async () => {
    const spa = await json('clients', 'create', '--name', 'spa', '--scope', 'read', '--redirect-uri', 'http://127.0.0.1:8080/cb', '--auth-method', 'none');
    const confidential = await json('clients', 'update', spa.client_id, '--auth-method', 'client_secret_basic');
    expect(confidential).toMatchObject({ token_endpoint_auth_method: 'client_secret_basic', client_secret: expect.stringMatching(/^tsr_cs_/) });
    expect(await json('clients', 'show', spa.client_id)).not.toHaveProperty('client_secret');
  }, 180_000);

  it("takes a client id that starts with '-', as it is or after --", async () => {
    const id = '-dashFirst_0123456789ab';
    const helpLike = '-hX0123456789abcdefghij';
    await insertClient(id, 'Dash');
    await insertClient(helpLike, 'Help-like');
    expect(await json('clients', 'show', id)).toMatchObject({ client_id: id, client_name: 'Dash' });
    expect(await json('clients', 'show', '--', id)).toMatchObject({ client_id: id });
    // Options may come before or after it; a string option's value may start with '-' too.
    expect(await cli('clients', 'show', '--json', id)).toMatchObject({ code: 0 });
    expect(await json('clients', 'update', id, '--name', '-named-')).toMatchObject({ client_id: id, client_name: '-named-' });
    expect(await json('clients', 'update', '--scope', 'read', '--', id)).toMatchObject({ client_id: id, scope: 'read' });
    expect(await cli('clients', 'disable', id)).toMatchObject({ code: 0, stdout: `Disabled client ${id}; tokens issued to it no longer work.\n` });
    expect(await cli('clients', 'enable', '--', id)).toMatchObject({ code: 0 });
    expect(await cli('clients', 'delete', id)).toMatchObject({ code: 0 });
    // After --, even what looks like -h is the id (the launcher does not take it for --help).
    expect(await json('clients', 'show', '--', helpLike)).toMatchObject({ client_id: helpLike });
    expect(await cli('clients', 'show', '-h')).toMatchObject({ code: 0, stdout: expect.stringContaining('Usage: npm run cli -- clients show <client_id>') });
    expect(await cli('clients', 'show', id, 'extra')).toMatchObject({ code: 2, stderr: expect.stringContaining('unexpected argument "extra"') });
  }, 180_000);

  it('lists the signing keys, never a private key', async () => {
    expect(await cli('keys', 'list')).toMatchObject({ code: 0, stdout: 'KID  ALG  STATUS  CREATED  PUBLISHED_UNTIL  PRIVATE_KEY\n' });
    const first = await json('keys', 'rotate');
    const second = await json('keys', 'rotate', '--alg', 'EdDSA');
    const keys = await json('keys', 'list');
    expect(keys).toEqual([
      { kid: second.active_kid, alg: 'EdDSA', status: 'active', created_at: expect.any(String), retired_at: null, publish_until: null, private_key: 'encrypted' },
      { kid: first.active_kid, alg: 'ES256', status: 'retired', created_at: expect.any(String), retired_at: expect.any(String), publish_until: expect.any(String), private_key: 'destroyed' },
    ]);
    const table = await cli('keys', 'list');
    expect(table.stdout).toMatch(new RegExp(`^${second.active_kid}\\s+EdDSA\\s+active\\s`, 'm'));
    expect(table.stdout).not.toMatch(/"d"|PRIVATE KEY/);
  }, 180_000);

  it('lists users, and enables a disabled one', async () => {
    const erin = await json('users', 'create', 'erin', '--password', 'correct horse');
    expect(await cli('users', 'disable', 'erin')).toMatchObject({ code: 0 });
    expect((await json('users', 'list')).find((u: { id: string }) => u.id === erin.id).disabled_at).toEqual(expect.any(String));
    expect(await cli('users', 'enable', 'erin')).toMatchObject({ code: 0, stdout: 'Enabled user erin; tokens revoked while they were disabled stay revoked.\n' });
    expect(await json('users', 'list')).toContainEqual({ ...erin, disabled_at: null });
    expect(await cli('users', 'enable', 'erin')).toMatchObject({ code: 0, stdout: 'User erin was not disabled.\n' });
    expect(await cli('users', 'enable', 'nobody')).toMatchObject({ code: 1, stderr: 'error: no user nobody\n' });
    // A password may start with '-' (bench/code-flow.mjs makes random base64url ones, a 1-in-64 chance): the option's value.
    const frank = await json('users', 'create', 'frank', '--password', '-h8Vx_-random-password');
    expect(await json('users', 'list')).toContainEqual({ ...frank, disabled_at: null });
    const table = await cli('users', 'list');
    expect(table.stdout).toMatch(new RegExp(`^erin\\s+${erin.id}\\s+active\\s`, 'm'));
  }, 180_000);

  describe('a reader that goes away (| head -1)', () => {
    beforeAll(async () => {
      // Far more than a pipe holds (64 KiB), so the CLI is still writing when head has gone.
      await query(
        `INSERT INTO clients (client_id, client_name, grant_types, scopes, token_endpoint_auth_method, redirect_uris, access_token_format, resources)
         SELECT 'bulk-' || lpad(i::text, 5, '0'), 'Bulk client number ' || i, '{client_credentials}', '{read,write,admin}', 'client_secret_basic', '{}', 'opaque', '{}'
         FROM generate_series(1, 3000) AS i`,
      );
    });

    it.each([
      ['the launcher (node scripts/cli.mjs)', 'node scripts/cli.mjs clients list'],
      ['the built CLI', `node ${CLI_MAIN} clients list`],
      ['the built CLI, --json', `node ${CLI_MAIN} clients list --json`],
      ['npm run -s cli', 'npm run -s cli -- clients list'],
    ])('%s ends quietly: the first line, no error, exit code 0', async (_, command) => {
      const result = await run(['bash', '-o', 'pipefail', '-c', `${command} | head -1`]);
      expect(result).toEqual({ code: 0, stdout: expect.stringMatching(/^(CLIENT_ID\s+NAME\s+STATUS|\[)/), stderr: '' });
      expect(result.stdout.split('\n')).toHaveLength(2);
    }, 180_000);

    it('npm run cli (npm prints its banner first) ends quietly too', async () => {
      const result = await run(['bash', '-o', 'pipefail', '-c', 'npm run cli -- clients list | head -3']);
      expect(result).toEqual({ code: 0, stdout: expect.stringMatching(/^\n> tessera@[^\n]* cli\n> node scripts\/cli\.mjs clients list\n$/), stderr: '' });
    }, 180_000);
  });
});
