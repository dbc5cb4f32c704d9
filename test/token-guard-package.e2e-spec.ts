// @tessera/token-guard as a resource team gets it: `npm pack` of libs/token-guard, installed with the
// Nest packages from the registry into a throwaway app outside the monorepo, the README's code compiled
// by the app's own tsc (skipLibCheck off, so the package's .d.ts is checked too) and run with node on
// Fastify and on Express, beside the real auth server.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '@tessera/testing';
import { basicAuth, postForm, registerClient, startAuthServer, type RunningAuthServer } from '../apps/auth-server/test/auth-server.harness.js';

const PACKAGE_DIR = fileURLToPath(new URL('../libs/token-guard', import.meta.url));
const DEPENDENCIES = [
  '@nestjs/common@^12',
  '@nestjs/core@^12',
  '@nestjs/platform-fastify@^12',
  '@nestjs/platform-express@^12',
  'reflect-metadata',
  'rxjs',
  'typescript@~6.0.3',
  '@types/node@^20',
];

// The README's snippet, verbatim.
const APP_MODULE = `import { Controller, Get, Module, UseGuards } from '@nestjs/common';
import { RequireScopes, TokenGuard, TokenGuardModule, VerifiedToken, type VerifiedAccessToken } from '@tessera/token-guard';

@Controller('reports')
@UseGuards(TokenGuard)
export class ReportsController {
  @Get()
  @RequireScopes('reports:read')
  list(@VerifiedToken() token: VerifiedAccessToken) {
    return { subject: token.subject, scopes: token.scopes, format: token.format };
  }
}

@Module({
  imports: [
    TokenGuardModule.forRoot({
      issuer: process.env.TESSERA_ISSUER!,       // the auth server, e.g. https://auth.example.com
      audience: process.env.API_RESOURCE!,       // this API's resource identifier (RFC 8707), e.g. https://api.example.com
      introspection: { clientId: process.env.API_CLIENT_ID!, clientSecret: process.env.API_CLIENT_SECRET! }, // opaque tokens and the revocation feed
    }),
  ],
  controllers: [ReportsController],
})
export class AppModule {}
`;

const MAIN_FASTIFY = `import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { AppModule } from './app.module.js';

const app = await NestFactory.create<NestFastifyApplication>(AppModule, new FastifyAdapter());
await app.listen(Number(process.env.PORT ?? 3002), '127.0.0.1');
`;

const MAIN_EXPRESS = `import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module.js';

const app = await NestFactory.create(AppModule);
await app.listen(Number(process.env.PORT ?? 3002), '127.0.0.1');
`;

// The public types are real (not any), have the documented shape, and refuse wrong uses. Compiled, never run.
const TYPES_CHECK = `import type { DynamicModule } from '@nestjs/common';
import {
  RequireScopes,
  TokenGuard,
  TokenGuardModule,
  TokenGuardStatus,
  VerifiedToken,
  type TokenGuardOptions,
  type VerifiedAccessToken,
} from '@tessera/token-guard';

type IsAny<T> = 0 extends 1 & T ? true : false;
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false;

export const notAny: false[] = [
  false satisfies IsAny<VerifiedAccessToken>,
  false satisfies IsAny<VerifiedAccessToken['subject']>,
  false satisfies IsAny<VerifiedAccessToken['scopes']>,
  false satisfies IsAny<VerifiedAccessToken['expiresAt']>,
  false satisfies IsAny<VerifiedAccessToken['format']>,
  false satisfies IsAny<TokenGuardOptions>,
  false satisfies IsAny<TokenGuardOptions['issuer']>,
  false satisfies IsAny<typeof TokenGuardModule.forRoot>,
  false satisfies IsAny<ReturnType<typeof TokenGuardModule.forRoot>>,
  false satisfies IsAny<TokenGuard>,
  false satisfies IsAny<typeof RequireScopes>,
  false satisfies IsAny<typeof VerifiedToken>,
  false satisfies IsAny<ReturnType<TokenGuardStatus['ready']>>,
];

export const shape: true = true satisfies Equal<
  VerifiedAccessToken,
  { subject: string; clientId: string; scopes: string[]; audience: string[]; issuer: string; expiresAt: Date; jti: string; format: 'jwt' | 'opaque' }
>;
export const dynamicModule: true = true satisfies Equal<ReturnType<typeof TokenGuardModule.forRoot>, DynamicModule>;

export function wrongUses(): void {
  // @ts-expect-error the issuer is a URL string
  TokenGuardModule.forRoot({ issuer: 1, audience: 'https://api.example.com' });
  // @ts-expect-error the audience is required
  TokenGuardModule.forRoot({ issuer: 'https://auth.example.com' });
  // @ts-expect-error introspection needs the client secret too
  TokenGuardModule.forRoot({ issuer: 'https://auth.example.com', audience: 'https://api.example.com', introspection: { clientId: 'api' } });
  // @ts-expect-error scopes are strings
  RequireScopes(1);
  // @ts-expect-error format is 'jwt' or 'opaque'
  const format: VerifiedAccessToken['format'] = 'saml';
  void format;
}
`;

const TSCONFIG = {
  compilerOptions: {
    module: 'nodenext',
    moduleResolution: 'nodenext',
    target: 'es2023',
    strict: true,
    experimentalDecorators: true,
    emitDecoratorMetadata: true,
    outDir: 'dist',
    rootDir: 'src',
    types: ['node'],
    skipLibCheck: false,
  },
  include: ['src'],
};

/**
 * The environment of a child npm/tsc/node: ours without what an enclosing `npm test` or jest adds that would
 * change where or what npm installs (npm_config_prefix, npm_config_global, npm_config_local_prefix, INIT_CWD, …)
 * or how node runs (NODE_OPTIONS=--experimental-vm-modules). Of npm's settings only those that say how to
 * reach the registry (its address, cache, certificates, proxies, credentials) are kept.
 */
function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const keep = /^npm_config_(registry|.+:registry|\/\/.+|_auth.*|cache|cafile|ca|cert|key|strict_ssl|https?_proxy|proxy|noproxy|no_proxy|userconfig|globalconfig|fetch_.+|maxsockets|offline|prefer_offline|prefer_online)$/i;
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (/^npm_/i.test(name) ? keep.test(name) : !['INIT_CWD', 'NODE_OPTIONS', 'NODE_ENV', 'NODE_PATH'].includes(name)) env[name] = value;
  }
  return { ...env, NO_COLOR: '1', ...extra };
}

interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function describeRun(what: string, r: Finished): string {
  return `${what} exited with ${r.signal ?? r.code}\n--- stdout ---\n${r.stdout}\n--- stderr ---\n${r.stderr}`;
}

/** Runs a command to its end; throws with its whole output unless it exits 0. */
function run(command: string, args: string[], cwd: string, timeoutMs: number): Promise<Finished> {
  const what = `\`${[command, ...args].join(' ')}\` in ${cwd}`;
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env: childEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    const out = { stdout: '', stderr: '' };
    child.stdout.on('data', (d) => (out.stdout += d));
    child.stderr.on('data', (d) => (out.stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`${what} could not start: ${e.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const result = { code, signal, ...out };
      if (code === 0) resolve(result);
      else reject(new Error(describeRun(signal === 'SIGKILL' ? `${what} (killed after ${timeoutMs} ms)` : what, result)));
    });
  });
}

/** One of the compiled apps, run with node as its own process. */
class AppProcess {
  readonly url: string;
  private stdout = '';
  private stderr = '';
  private exit?: { code: number | null; signal: NodeJS.Signals | null };
  private readonly exited: Promise<void>;
  private readonly child: ChildProcess;

  constructor(
    private readonly entry: string,
    appDir: string,
    port: number,
    env: Record<string, string>,
  ) {
    this.url = `http://127.0.0.1:${port}`;
    this.child = spawn(process.execPath, [entry], { cwd: appDir, env: childEnv({ ...env, PORT: String(port) }), stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout!.on('data', (d) => (this.stdout += d));
    this.child.stderr!.on('data', (d) => (this.stderr += d));
    this.exited = new Promise((resolve) => {
      this.child.on('error', (e) => {
        this.stderr += `\n(spawn failed: ${e.message})`;
        this.exit = { code: null, signal: null };
        resolve();
      });
      this.child.on('exit', (code, signal) => {
        this.exit = { code, signal };
        resolve();
      });
    });
  }

  /** Its output so far, for an error message. */
  output(what = `node ${this.entry}`): string {
    return describeRun(what, { code: this.exit?.code ?? null, signal: this.exit?.signal ?? null, stdout: this.stdout, stderr: this.stderr });
  }

  /** Resolves once the app answers HTTP at all; throws with its output when it exits or takes too long. */
  async listening(withinMs: number): Promise<void> {
    const deadline = performance.now() + withinMs;
    for (;;) {
      if (this.exit) throw new Error(`node ${this.entry} exited before listening on ${this.url}\n${this.output()}`);
      try {
        await fetch(`${this.url}/reports`, { signal: AbortSignal.timeout(1000) });
        return;
      } catch {
        // not listening yet
      }
      if (performance.now() > deadline) throw new Error(`node ${this.entry} is not listening on ${this.url} after ${withinMs} ms\n${this.output()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async stop(): Promise<void> {
    if (!this.exit) {
      this.child.kill('SIGTERM');
      const killer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
      await this.exited;
      clearTimeout(killer);
    }
  }
}

type Platform = 'fastify' | 'express';
type Client = { client_id: string; client_secret: string };

interface RunningApp {
  server: AppProcess;
  /** API_RESOURCE of this app: its RFC 8707 resource identifier, also the realm of its challenges. */
  resource: string;
  jwtClient: Client;
  opaqueClient: Client;
}

let workDir: string | undefined;
let auth: RunningAuthServer | undefined;
const apps = {} as Record<Platform, RunningApp>;

async function issue(client: Client, resource: string, scope: string): Promise<string> {
  const res = await postForm(
    `${auth!.url}/oauth2/token`,
    { grant_type: 'client_credentials', scope, resource },
    { authorization: basicAuth(client.client_id, client.client_secret) },
  );
  if (res.status !== 200) throw new Error(`token request failed: ${res.status} ${await res.text()}`);
  return (await res.json()).access_token;
}

/** Once the app's TokenGuard has caught up with the revocation feed, a good token gets 200 (before, it may wait or get 503). */
async function accepting(app: RunningApp, withinMs: number): Promise<void> {
  const token = await issue(app.jwtClient, app.resource, 'reports:read');
  const deadline = performance.now() + withinMs;
  for (;;) {
    const res = await fetch(`${app.server.url}/reports`, { headers: { authorization: `Bearer ${token}` } });
    const body = await res.text();
    if (res.status === 200) return;
    if (performance.now() > deadline) throw new Error(`a valid JWT still gets ${res.status} ${body} after ${withinMs} ms\n${app.server.output()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'tessera-token-guard-app-'));
  const packDir = join(workDir, 'pack');
  const appDir = join(workDir, 'app');
  await mkdir(packDir);
  await mkdir(join(appDir, 'src'), { recursive: true });

  // 1. The package, as it would be published (prepack builds it).
  await run('npm', ['pack', '--pack-destination', packDir], PACKAGE_DIR, 120_000);
  const tarballs = (await readdir(packDir)).filter((f) => f.endsWith('.tgz'));
  if (tarballs.length !== 1) throw new Error(`npm pack left ${JSON.stringify(tarballs)} in ${packDir}, expected one .tgz`);

  // 2. A fresh app of its own, with the package and the Nest packages from the registry.
  await writeFile(join(appDir, 'package.json'), JSON.stringify({ name: 'reports-api', version: '1.0.0', private: true, type: 'module' }, null, 2));
  await run(
    'npm',
    ['install', '--no-audit', '--no-fund', '--no-package-lock', '--prefer-offline', '--loglevel=warn', join(packDir, tarballs[0]), ...DEPENDENCIES],
    appDir,
    240_000,
  );

  // 3. The README's code; 4. compiled by the app's own TypeScript.
  await writeFile(join(appDir, 'tsconfig.json'), JSON.stringify(TSCONFIG, null, 2));
  await writeFile(join(appDir, 'src/app.module.ts'), APP_MODULE);
  await writeFile(join(appDir, 'src/main.ts'), MAIN_FASTIFY);
  await writeFile(join(appDir, 'src/main-express.ts'), MAIN_EXPRESS);
  await writeFile(join(appDir, 'src/types-check.ts'), TYPES_CHECK);
  await run('npx', ['--no', '--', 'tsc', '-p', '.'], appDir, 120_000);

  // The auth server, and each app with its own resource identifier, introspection client and token clients.
  auth = await startAuthServer();
  const entries: Record<Platform, string> = { fastify: 'dist/main.js', express: 'dist/main-express.js' };
  for (const platform of ['fastify', 'express'] as const) {
    const port = await freePort();
    const resource = `http://127.0.0.1:${port}`;
    const api = await registerClient(auth.url, { client_name: `reports api (${platform})`, scope: '', resource_server_for: [resource] });
    const clients = { resources: [resource], scope: 'reports:read other' };
    apps[platform] = {
      resource,
      jwtClient: await registerClient(auth.url, { ...clients, access_token_format: 'jwt' }),
      opaqueClient: await registerClient(auth.url, { ...clients, access_token_format: 'opaque' }),
      server: new AppProcess(entries[platform], appDir, port, {
        TESSERA_ISSUER: auth.url,
        API_RESOURCE: resource,
        API_CLIENT_ID: api.client_id,
        API_CLIENT_SECRET: api.client_secret,
      }),
    };
  }
  for (const app of Object.values(apps)) await app.server.listening(20_000);
  for (const app of Object.values(apps)) await accepting(app, 15_000);
}, 300_000);

afterAll(async () => {
  await Promise.all(Object.values(apps).map((app) => app.server.stop()));
  await auth?.stop();
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

it('runs the code the README shows resource teams, verbatim', async () => {
  const readme = await readFile(fileURLToPath(new URL('../README.md', import.meta.url)), 'utf8');
  expect(readme).toContain(`// src/app.module.ts\n${APP_MODULE}`);
  expect(readme).toContain(MAIN_FASTIFY.replace("import 'reflect-metadata';", "// src/main.ts (Fastify; for Express, npm install @nestjs/platform-express and use NestFactory.create(AppModule))\nimport 'reflect-metadata';"));
});

describe.each<Platform>(['fastify', 'express'])('@tessera/token-guard installed from its tarball, on %s', (platform) => {
  let app: RunningApp;
  beforeAll(() => {
    app = apps[platform];
  });

  async function call(token?: string) {
    const res = await fetch(`${app.server.url}/reports`, { headers: token === undefined ? {} : { authorization: `Bearer ${token}` } });
    return {
      status: res.status,
      body: await res.json(),
      contentType: res.headers.get('content-type'),
      challenge: res.headers.get('www-authenticate'),
      cacheControl: res.headers.get('cache-control'),
    };
  }

  it('hands the handler the claims of a JWT that has the scope', async () => {
    const token = await issue(app.jwtClient, app.resource, 'reports:read');
    expect(token.split('.')).toHaveLength(3);
    expect(await call(token)).toMatchObject({
      status: 200,
      body: { subject: app.jwtClient.client_id, scopes: ['reports:read'], format: 'jwt' },
      contentType: 'application/json; charset=utf-8',
      challenge: null,
    });
  });

  it('hands the handler the claims of an opaque token that has the scope', async () => {
    const token = await issue(app.opaqueClient, app.resource, 'reports:read');
    expect(token).toMatch(/^tsr_at_/);
    expect(await call(token)).toMatchObject({
      status: 200,
      body: { subject: app.opaqueClient.client_id, scopes: ['reports:read'], format: 'opaque' },
      contentType: 'application/json; charset=utf-8',
      challenge: null,
    });
  });

  it.each(['jwt', 'opaque'] as const)('answers 403 insufficient_scope to a %s token without the scope', async (format) => {
    const token = await issue(format === 'jwt' ? app.jwtClient : app.opaqueClient, app.resource, 'other');
    expect(await call(token)).toEqual({
      status: 403,
      body: { error: 'insufficient_scope', error_description: 'the token lacks the required scope: reports:read' },
      contentType: 'application/json; charset=utf-8',
      challenge: `Bearer realm="${app.resource}", error="insufficient_scope", scope="reports:read"`,
      cacheControl: 'no-store',
    });
  });

  it('answers a request without a token with a bare challenge and an empty body (RFC 6750 §3.1), not Nest’s default', async () => {
    expect(await call()).toEqual({
      status: 401,
      body: {},
      contentType: 'application/json; charset=utf-8',
      challenge: `Bearer realm="${app.resource}"`,
      cacheControl: 'no-store',
    });
  });

  it.each([
    ['opaque-shaped', 'garbage', 'token is not active'],
    ['JWT-shaped', 'a.b.c', 'malformed token'],
  ])('refuses %s garbage with 401 invalid_token', async (_shape, token, description) => {
    expect(await call(token)).toEqual({
      status: 401,
      body: { error: 'invalid_token', error_description: description },
      contentType: 'application/json; charset=utf-8',
      challenge: `Bearer realm="${app.resource}", error="invalid_token", error_description="${description}"`,
      cacheControl: 'no-store',
    });
  });
});
