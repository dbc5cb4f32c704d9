// How Tessera is run: npm start (scripts/start.mjs), the docker-compose file, and the operator CLI (npm run cli)
// against a real database.
import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { randomBytes, randomUUID } from 'node:crypto';
import { appendFileSync, chmodSync, cpSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
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
import { createTestDatabase, freePort, someClaims } from '@tessera/testing';
import { ClientSecretHasher, KeyEncryptionKeys, ScryptPasswordHasher } from '@tessera/tokens';
import pg from 'pg';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

describe('npm start (scripts/start.mjs) builds only what changed, and says how to go on', () => {
  // A copy of the project (sources, scripts, configuration; node_modules linked), so changing a source here
  // changes nothing for the other tests. Readable by all: as root, the embedded PostgreSQL runs as `postgres`.
  let copy: string;
  const KEK = randomBytes(32).toString('base64url');
  const liveFile = () => join(copy, 'apps/auth-server/src/health/health.controller.ts');

  const check = () => spawnSync(process.execPath, ['scripts/build.mjs', '--check'], { cwd: copy, encoding: 'utf8' });

  /** `node scripts/start.mjs` in the copy with only the variables given; resolves once the banner is out. */
  async function start(env: Record<string, string>) {
    const child = spawn(process.execPath, ['scripts/start.mjs'], { cwd: copy, env: { PATH: process.env.PATH!, HOME: process.env.HOME!, ...env } });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const closed = new Promise<number | null>((res) => child.on('close', (code) => res(code)));
    const up = await new Promise<boolean>((res) => {
      const poll = setInterval(() => output.includes('Tessera is up.') && done(true), 100);
      // A bound, not a timing assertion: a build on a busy two-core machine takes a minute or two.
      const bound = setTimeout(() => done(false), 240_000);
      void closed.then(() => done(output.includes('Tessera is up.')));
      function done(value: boolean) {
        clearInterval(poll);
        clearTimeout(bound);
        res(value);
      }
    });
    if (!up) {
      child.kill('SIGTERM');
      await closed;
      throw new Error(`npm start did not come up:\n${output.slice(-6000)}`);
    }
    return {
      output: () => output,
      banner: () => output.slice(output.indexOf('Tessera is up.')),
      stop: async () => {
        child.kill('SIGTERM');
        return closed;
      },
    };
  }

  beforeAll(async () => {
    copy = mkdtempSync(join(tmpdir(), 'tessera-start-'));
    chmodSync(copy, 0o755);
    for (const entry of ['apps', 'libs', 'scripts', 'tsconfig.json', 'nest-cli.json', 'package.json', 'package-lock.json']) {
      cpSync(join(ROOT, entry), join(copy, entry), { recursive: true });
    }
    symlinkSync(join(ROOT, 'node_modules'), join(copy, 'node_modules'));
    const built = spawnSync(process.execPath, ['scripts/build.mjs'], { cwd: copy, encoding: 'utf8' });
    if (built.status !== 0) throw new Error(`npm run build failed in the copy:\n${built.stderr}${built.stdout}`);
  }, 600_000);
  afterAll(() => copy && rmSync(copy, { recursive: true, force: true }));

  it('rebuilds exactly when a source, configuration or the lockfile changed, or dist is gone', () => {
    expect(check()).toMatchObject({ status: 0, stderr: '[build]    up to date\n' });
    // A test file, or a source touched without a change, is no reason to build.
    appendFileSync(join(copy, 'libs/oauth-core/src/grants/refresh-token.grant.spec.ts'), '\n// changed\n');
    utimesSync(liveFile(), new Date(), new Date());
    expect(check().status).toBe(0);

    const lockfile = readFileSync(join(copy, 'package-lock.json'), 'utf8');
    writeFileSync(join(copy, 'package-lock.json'), `${lockfile}\n`);
    expect(check()).toMatchObject({ status: 1, stderr: expect.stringContaining('sources, configuration or package-lock.json changed') });
    writeFileSync(join(copy, 'package-lock.json'), lockfile); // switched back: the build is that one again
    expect(check().status).toBe(0);

    const tsconfig = join(copy, 'apps/cli/tsconfig.app.json');
    const before = readFileSync(tsconfig, 'utf8');
    writeFileSync(tsconfig, before.replace('"types"', '"removeComments": false, "types"'));
    expect(check().status).toBe(1);
    writeFileSync(tsconfig, before);

    renameSync(join(copy, 'dist'), join(copy, 'dist.away'));
    try {
      const entryPoints = ['auth-server', 'resource-server', 'cli'].map((app) => `dist/apps/${app}/apps/${app}/src/main.js`);
      expect(check()).toMatchObject({ status: 1, stderr: `[build]    a build is needed: ${entryPoints.join(', ')} missing\n` });
    } finally {
      renameSync(join(copy, 'dist.away'), join(copy, 'dist'));
    }
    expect(check().status).toBe(0);
  });

  it('starts without building when nothing changed, then prints the banner (embedded PostgreSQL)', async () => {
    const [auth, resource, pgPort] = [await freePort(), await freePort(), await freePort()];
    const run = await start({ TESSERA_AUTH_PORT: String(auth), TESSERA_RESOURCE_PORT: String(resource), TESSERA_EMBEDDED_PG_PORT: String(pgPort) });
    try {
      expect(run.output()).toContain('build is up to date');
      expect(run.output()).not.toMatch(/\[build\]|building|built auth-server/);
      const issuer = `http://localhost:${auth}`;
      const banner = run.banner();
      expect(banner).toContain(`issuer:       ${issuer} `);
      expect(banner).toContain(`sign-in page: ${issuer}/login\n`);
      expect(banner).toContain(`notes API:    http://localhost:${resource} `);
      expect(banner).toContain(`data:         .tessera/pgdata (embedded PostgreSQL on 127.0.0.1:${pgPort}; databases tessera and tessera_notes)`);
      expect(banner).toContain('key-encryption key in .tessera/key-encryption-key');
      expect(banner).toContain("echo 'a long password' | npm run -s cli -- users create alice --password -\n");
      expect(banner).toContain('npm run -s cli -- clients create --name demo --scope "notes:read notes:write"');
      expect(banner).toMatch(/stop: +Ctrl-C \(or kill \d+\)/);
      // The facts are true: the issuer's metadata names it, the sign-in page is there, the notes API is up.
      const metadata = await (await fetch(`${issuer}/.well-known/oauth-authorization-server`)).json();
      expect(metadata.issuer).toBe(issuer);
      const login = await fetch(`${issuer}/login`);
      expect(login.status).toBe(200);
      expect(await login.text()).toContain('name="password"');
      expect((await fetch(`http://localhost:${resource}/health/ready`)).status).toBe(200);
      expect(statSync(join(copy, '.tessera/pgdata')).isDirectory()).toBe(true);
    } finally {
      expect(await run.stop()).toBe(0);
    }
  }, 300_000);

  it('rebuilds when a source changed, and runs the new code (DATABASE_URL)', async () => {
    const [authDb, notesDb] = [await createTestDatabase(), await createTestDatabase()];
    writeFileSync(liveFile(), readFileSync(liveFile(), 'utf8').replace("return { status: 'ok' };", "return { status: 'ok', rebuilt: true };"));
    expect(check().status).toBe(1);
    const [auth, resource] = [await freePort(), await freePort()];
    const run = await start({
      DATABASE_URL: authDb.url,
      TESSERA_RESOURCE_DATABASE_URL: notesDb.url,
      TESSERA_KEY_ENCRYPTION_KEY: KEK,
      TESSERA_AUTH_PORT: String(auth),
      TESSERA_RESOURCE_PORT: String(resource),
    });
    try {
      expect(run.output()).toContain('building: sources, configuration or package-lock.json changed since the last build');
      expect(run.output()).toMatch(/built auth-server, resource-server, cli in [\d.]+ s/);
      expect(await (await fetch(`http://localhost:${auth}/health/live`)).json()).toEqual({ status: 'ok', rebuilt: true });
      const withoutPassword = (url: string) => Object.assign(new URL(url), { password: '' }).toString();
      expect(run.banner()).toContain(`data:         ${withoutPassword(authDb.url)} (auth server), ${withoutPassword(notesDb.url)} (resource server)`);
      expect(check().status).toBe(0);
    } finally {
      expect(await run.stop()).toBe(0);
      await authDb.drop();
      await notesDb.drop();
    }
  }, 300_000);
});

describe('docker-compose.yml and the Dockerfile (read as files: no Docker engine runs here)', () => {
  // js-yaml (a devDependency) reads YAML 1.1 merge keys as compose does.
  const yaml = createRequire(import.meta.url)('js-yaml') as { load(text: string): unknown };
  type Service = {
    build?: string;
    image?: string;
    command?: string[];
    environment?: Record<string, string>;
    ports?: string[];
    volumes?: string[];
    depends_on?: Record<string, { condition: string }>;
    healthcheck?: { test?: string[]; disable?: boolean; interval?: string; retries?: number };
  };
  const compose = yaml.load(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8')) as { services: Record<string, Service>; volumes: Record<string, unknown> };
  const { services } = compose;
  const SECRETS_RO = 'tessera-secrets:/run/tessera/secrets:ro';
  const AUTH_MAIN = 'dist/apps/auth-server/apps/auth-server/src/main.js';
  const RESOURCE_MAIN = 'dist/apps/resource-server/apps/resource-server/src/main.js';

  it('runs one image, built from the Dockerfile, for both servers and the init service; PostgreSQL 16 for each server', () => {
    expect(Object.keys(services).sort()).toEqual(['auth-server', 'init', 'notes-db', 'postgres', 'resource-server']);
    for (const name of ['init', 'auth-server', 'resource-server']) expect(services[name]).toMatchObject({ build: '.', image: 'tessera:local' });
    expect(services['auth-server'].command).toBeUndefined(); // the image's CMD: the auth server
    expect(services['resource-server'].command).toEqual(['node', RESOURCE_MAIN]);
    expect(services.init.command).toEqual(['node', 'scripts/init-secrets.mjs']);
    expect(services.postgres.image).toBe('postgres:16');
    expect(services['notes-db'].image).toBe('postgres:16');
    expect(Object.keys(compose.volumes).sort()).toEqual(['notes-pgdata', 'pgdata', 'tessera-resource-secrets', 'tessera-secrets']);
  });

  it('publishes the auth server on 3000 and the resource server on 3001, and no database', () => {
    expect(services['auth-server'].ports).toEqual(['3000:3000']);
    expect(services['resource-server'].ports).toEqual(['3001:3001']);
    expect(services['auth-server'].environment).toMatchObject({ TESSERA_AUTH_PORT: '3000' });
    expect(services['resource-server'].environment).toMatchObject({ TESSERA_RESOURCE_PORT: '3001' });
    for (const name of ['init', 'postgres', 'notes-db']) expect(services[name].ports).toBeUndefined();
  });

  it('has health checks, and starts each service once what it needs is healthy (or, for init, done)', () => {
    expect(services.postgres.healthcheck?.test).toEqual(['CMD-SHELL', 'pg_isready -U tessera -d tessera']);
    expect(services['notes-db'].healthcheck?.test).toEqual(['CMD-SHELL', 'pg_isready -U tessera -d tessera_notes']);
    for (const name of ['auth-server', 'resource-server']) {
      expect(services[name].healthcheck).toMatchObject({ test: ['CMD', 'node', 'scripts/healthcheck.mjs'], interval: expect.any(String), retries: expect.any(Number) });
    }
    expect(services.init.healthcheck).toEqual({ disable: true });
    const done = { condition: 'service_completed_successfully' };
    const healthy = { condition: 'service_healthy' };
    expect(services.postgres.depends_on).toEqual({ init: done });
    expect(services['notes-db'].depends_on).toEqual({ init: done });
    expect(services['auth-server'].depends_on).toEqual({ init: done, postgres: healthy });
    expect(services['resource-server'].depends_on).toEqual({ init: done, 'notes-db': healthy, 'auth-server': healthy });
  });

  it('runs on no built-in secret: the init service generates them into a volume that the others only read', () => {
    expect(services.init.volumes).toEqual(['tessera-secrets:/run/tessera/secrets', 'tessera-resource-secrets:/run/tessera/resource-secrets']);
    expect(services.init.environment).toEqual({ TESSERA_RESOURCE_SECRETS_DIR: '/run/tessera/resource-secrets' });
    for (const name of ['postgres', 'auth-server']) expect(services[name].volumes).toContain(SECRETS_RO);
    // The resource server (and its database) read a volume of their own: never the key-encryption key or the
    // auth database's password.
    for (const name of ['notes-db', 'resource-server']) {
      expect(services[name].volumes).toContain('tessera-resource-secrets:/run/tessera/secrets:ro');
      expect(services[name].volumes!.filter((v) => v.startsWith('tessera-secrets:'))).toEqual([]);
    }
    for (const name of ['postgres', 'notes-db']) {
      expect(services[name].environment).toMatchObject({ POSTGRES_USER: 'tessera', POSTGRES_PASSWORD_FILE: '/run/tessera/secrets/PGPASSWORD' });
      expect(services[name].environment).not.toHaveProperty('POSTGRES_PASSWORD');
    }
    // A secret-like variable is either empty by default (then the init service's file is used) or the operator's.
    for (const [name, service] of Object.entries(services)) {
      for (const [key, value] of Object.entries(service.environment ?? {})) {
        if (/KEY|TOKEN|SECRET|PASSWORD|PEPPER/.test(key) && !key.endsWith('_FILE') && !key.endsWith('_DIR')) {
          expect(`${name}.${key}=${value}`).toMatch(new RegExp(`^${name}\\.${key}=\\$\\{[A-Z_]+:-\\}$`));
        }
      }
    }
    const auth = services['auth-server'].environment!;
    const resource = services['resource-server'].environment!;
    expect(new URL(auth.DATABASE_URL).password).toBe('');
    expect(new URL(resource.TESSERA_RESOURCE_DATABASE_URL).password).toBe('');
    expect(auth.PGPASSWORD).toBe('${TESSERA_DATABASE_PASSWORD:-}');
    expect(auth.TESSERA_KEY_ENCRYPTION_KEY).toBe('${TESSERA_KEY_ENCRYPTION_KEY:-}');
  });

  it('lets the resource server introspect opaque tokens with no variable set: it registers itself with the shared initial access token', () => {
    const auth = services['auth-server'].environment!;
    const resource = services['resource-server'].environment!;
    expect(auth.TESSERA_INITIAL_ACCESS_TOKEN).toBe('${TESSERA_INITIAL_ACCESS_TOKEN:-}');
    expect(resource.TESSERA_INITIAL_ACCESS_TOKEN).toBe(auth.TESSERA_INITIAL_ACCESS_TOKEN);
    // No client of its own unless the operator names one: then it registers (apps/resource-server).
    expect(resource.TESSERA_RESOURCE_CLIENT_ID).toBe('${TESSERA_RESOURCE_CLIENT_ID:-}');
    expect(resource.TESSERA_ISSUER).toBe(auth.TESSERA_ISSUER);
    expect(resource.TESSERA_RESOURCE_URL).toBe('${TESSERA_RESOURCE_URL:-http://localhost:3001}');
    expect(resource).not.toHaveProperty('DATABASE_URL');
  });

  it('builds the image in stages, runs it as the unprivileged node user, with a health check and the secrets entrypoint', () => {
    const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
    const instructions = dockerfile.split('\n').filter((line) => /^[A-Z]+ /.test(line));
    const stages = instructions.filter((line) => line.startsWith('FROM '));
    expect(stages).toEqual(['FROM node:20-bookworm-slim AS build', 'FROM node:20-bookworm-slim AS dependencies', 'FROM node:20-bookworm-slim AS runtime']);
    const runtime = instructions.slice(instructions.indexOf('FROM node:20-bookworm-slim AS runtime'));
    expect(runtime).toEqual(
      expect.arrayContaining([
        'COPY --from=dependencies /app/node_modules ./node_modules',
        'COPY --from=build /app/dist ./dist',
        'COPY scripts ./scripts',
        'USER node',
        'HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 CMD ["node", "scripts/healthcheck.mjs"]',
        'ENTRYPOINT ["sh", "scripts/container-entrypoint.sh"]',
        `CMD ["node", "${AUTH_MAIN}"]`,
      ]),
    );
    // Nothing after USER runs as root again, and the runtime stage installs no development dependencies.
    expect(runtime.slice(runtime.indexOf('USER node')).filter((line) => line.startsWith('USER '))).toEqual(['USER node']);
    expect(runtime.filter((line) => line.startsWith('RUN npm'))).toEqual([]);
    expect(dockerfile).toContain('npm ci --omit=dev --omit=optional --ignore-scripts');
  });

  it('init-secrets makes each secret once, readable only by its owner; the entrypoint exports them unless set', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-secrets-'));
    try {
      const init = () => spawnSync(process.execPath, [join(ROOT, 'scripts/init-secrets.mjs')], { env: { PATH: process.env.PATH, TESSERA_SECRETS_DIR: join(dir, 's') }, encoding: 'utf8' });
      const first = init();
      expect(first).toMatchObject({ status: 0, stdout: expect.stringContaining('generated TESSERA_KEY_ENCRYPTION_KEY, TESSERA_INITIAL_ACCESS_TOKEN, PGPASSWORD') });
      const read = (name: string) => readFileSync(join(dir, 's', name), 'utf8');
      const values = Object.fromEntries(['TESSERA_KEY_ENCRYPTION_KEY', 'TESSERA_INITIAL_ACCESS_TOKEN', 'PGPASSWORD'].map((n) => [n, read(n)]));
      for (const [name, value] of Object.entries(values)) {
        expect(Buffer.from(value, 'base64url')).toHaveLength(32);
        expect(statSync(join(dir, 's', name)).mode & 0o777).toBe(0o600);
      }
      expect(new Set(Object.values(values)).size).toBe(3);
      // A kept secret whose mode was loosened is made owner-only again.
      chmodSync(join(dir, 's', 'PGPASSWORD'), 0o644);
      expect(init()).toMatchObject({ status: 0, stdout: expect.stringContaining('kept TESSERA_KEY_ENCRYPTION_KEY, TESSERA_INITIAL_ACCESS_TOKEN, PGPASSWORD') });
      expect(read('TESSERA_KEY_ENCRYPTION_KEY')).toBe(values.TESSERA_KEY_ENCRYPTION_KEY);
      expect(statSync(join(dir, 's', 'PGPASSWORD')).mode & 0o777).toBe(0o600);

      const seen = spawnSync(
        'sh',
        [join(ROOT, 'scripts/container-entrypoint.sh'), process.execPath, '-p', 'JSON.stringify([process.env.TESSERA_KEY_ENCRYPTION_KEY, process.env.TESSERA_INITIAL_ACCESS_TOKEN, process.env.PGPASSWORD])'],
        { env: { PATH: process.env.PATH, TESSERA_SECRETS_DIR: join(dir, 's'), TESSERA_INITIAL_ACCESS_TOKEN: 'the-operators-own-token', PGPASSWORD: '' }, encoding: 'utf8' },
      );
      expect(seen.status).toBe(0);
      expect(JSON.parse(seen.stdout)).toEqual([values.TESSERA_KEY_ENCRYPTION_KEY, 'the-operators-own-token', values.PGPASSWORD]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("init-secrets gives the resource server's volume only the initial access token and a database password of its own", () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-secrets-'));
    try {
      const init = (auth: string, resource: string) =>
        spawnSync(process.execPath, [join(ROOT, 'scripts/init-secrets.mjs')], {
          env: { PATH: process.env.PATH, TESSERA_SECRETS_DIR: join(dir, auth), TESSERA_RESOURCE_SECRETS_DIR: join(dir, resource) },
          encoding: 'utf8',
        });
      const read = (sub: string, name: string) => readFileSync(join(dir, sub, name), 'utf8');
      expect(init('auth', 'resource').status).toBe(0);
      expect(readdirSync(join(dir, 'resource')).sort()).toEqual(['PGPASSWORD', 'TESSERA_INITIAL_ACCESS_TOKEN']);
      expect(read('resource', 'TESSERA_INITIAL_ACCESS_TOKEN')).toBe(read('auth', 'TESSERA_INITIAL_ACCESS_TOKEN'));
      expect(Buffer.from(read('resource', 'PGPASSWORD'), 'base64url')).toHaveLength(32);
      expect(read('resource', 'PGPASSWORD')).not.toBe(read('auth', 'PGPASSWORD'));
      for (const name of ['PGPASSWORD', 'TESSERA_INITIAL_ACCESS_TOKEN']) expect(statSync(join(dir, 'resource', name)).mode & 0o777).toBe(0o600);
      const password = read('resource', 'PGPASSWORD');
      expect(init('auth', 'resource').status).toBe(0);
      expect(read('resource', 'PGPASSWORD')).toBe(password);

      // A deployment from before the split: its notes database was made with the shared password, which it keeps.
      expect(init('old', 'unused').status).toBe(0);
      rmSync(join(dir, 'unused'), { recursive: true });
      expect(init('old', 'split').status).toBe(0);
      expect(read('split', 'PGPASSWORD')).toBe(read('old', 'PGPASSWORD'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the health check asks /health/ready of the app the container runs, on its port', async () => {
    const { appOf, check, readyUrl } = await import(pathToFileURL(join(ROOT, 'scripts/healthcheck.mjs')).href);
    expect(appOf(['/usr/local/bin/docker-init\0--\0node', `node\0${RESOURCE_MAIN}`])).toBe('resource-server');
    expect(appOf([`node\0${AUTH_MAIN}`])).toBe('auth-server');
    expect(appOf(['node\0dist/apps/cli/apps/cli/src/main.js\0clients\0list', 'node\0scripts/init-secrets.mjs'])).toBeNull();
    expect(readyUrl('auth-server', { TESSERA_HOST: '0.0.0.0', TESSERA_AUTH_PORT: '3000' })).toBe('http://127.0.0.1:3000/health/ready');
    expect(readyUrl('auth-server', { PORT: '8080' })).toBe('http://127.0.0.1:8080/health/ready');
    expect(readyUrl('resource-server', { TESSERA_HOST: '0.0.0.0', TESSERA_RESOURCE_PORT: '3001', TESSERA_AUTH_PORT: '3000' })).toBe('http://127.0.0.1:3001/health/ready');

    let status = 200;
    const server = createServer((req, res) => {
      res.statusCode = req.url === '/health/ready' ? status : 404;
      res.setHeader('connection', 'close'); // so the last check finds the port closed, not a pooled socket
      res.end();
    });
    await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
    const port = (server.address() as AddressInfo).port;
    const url = readyUrl('auth-server', { TESSERA_AUTH_PORT: String(port) });
    const said: string[] = [];
    try {
      expect(await check(url, (line: string) => said.push(line))).toBe(0);
      status = 503;
      expect(await check(url, (line: string) => said.push(line))).toBe(1);
      expect(said).toEqual([`${url} answered 503`]);
    } finally {
      await new Promise((res) => server.close(res));
    }
    expect(await check(url, (line: string) => said.push(line))).toBe(1);
    expect(said[1]).toBe(`${url}: ECONNREFUSED`);
  });

  // Debian's docker-compose 1.29 validates a file without a Docker engine (apt-get install -y docker-compose).
  const available = spawnSync('docker-compose', ['version'], { stdio: 'ignore' }).status === 0;
  const test = available ? it : it.skip;
  const note = available ? '' : ' (SKIPPED: no docker-compose binary; the checks above read the file without it)';

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
  }, 120_000);

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