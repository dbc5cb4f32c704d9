// Issue 11 (the per-request pipeline): the auth server writes its log lines in batches, one write per 10 ms at most
// (libs/logging BatchedDestination), not one system call per line. What a batch holds must still reach standard
// output whenever the process stops normally:
// - SIGTERM under load: every request answered 200 has its request line, exactly one, and the process exits 0;
// - a process that exits right after it logged (process.exit, an uncaught error) writes out every line.
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createTestDatabase, freePort } from '@tessera/testing';
import { TEST_KEY_ENCRYPTION_KEY } from '../apps/auth-server/test/auth-server.harness.js';
import { buildIfStale, ROOT, spawnNode, startApp, stopProcess, untilReady, type NodeProcess } from './support/processes.js';

const CONCURRENCY = 16;
/** Requests answered 200 before SIGTERM. */
const ANSWERED_BEFORE_SIGTERM = 500;
const METADATA = '/.well-known/oauth-authorization-server';

let db: { url: string; drop: () => Promise<void> };
let auth: NodeProcess | undefined;

beforeAll(async () => {
  await buildIfStale(['auth-server']);
  db = await createTestDatabase();
}, 240_000);

afterAll(async () => {
  if (auth) await stopProcess(auth);
  await db?.drop();
}, 60_000);

/** The request lines among a process's output lines (JSON lines with msg "request"). */
function requestLines(output: string[]): Record<string, unknown>[] {
  return output.filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as Record<string, unknown>).filter((line) => line.msg === 'request');
}

it('writes the request line of every request answered 200 when SIGTERM stops it under load, and exits 0', async () => {
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  auth = startApp('auth', 'auth-server', {
    DATABASE_URL: db.url,
    TESSERA_AUTH_PORT: String(port),
    TESSERA_ISSUER: issuer,
    TESSERA_INITIAL_ACCESS_TOKEN: `iat-${randomBytes(24).toString('base64url')}`,
    TESSERA_KEY_ENCRYPTION_KEY: TEST_KEY_ENCRYPTION_KEY,
    TESSERA_RATE_LIMITS: '0',
  });
  await untilReady(auth, issuer);

  // Clients asking for the metadata in a loop until the server is gone; the X-Request-Id of every 200.
  const answered: string[] = [];
  let reachedTarget!: () => void;
  const target = new Promise<void>((res) => (reachedTarget = res));
  let stopped = false;
  const client = async () => {
    while (!stopped) {
      try {
        const response = await fetch(`${issuer}${METADATA}`);
        await response.arrayBuffer();
        if (response.status === 200) answered.push(response.headers.get('x-request-id')!);
        if (answered.length >= ANSWERED_BEFORE_SIGTERM) reachedTarget();
      } catch {
        return; // the server has stopped listening
      }
    }
  };
  const clients = Array.from({ length: CONCURRENCY }, client);
  await target;
  process.kill(auth.pid, 'SIGTERM');
  const exit = await auth.closed;
  stopped = true;
  await Promise.all(clients);

  expect(exit).toEqual({ code: 0, signal: null });
  const served = requestLines(auth.output).filter((line) => line.route === METADATA && line.status === 200);
  expect(answered.length).toBeGreaterThanOrEqual(ANSWERED_BEFORE_SIGTERM);
  // Exactly one line per request answered 200: none lost in a batch, none written twice.
  expect(served.map((line) => line.req_id).sort()).toEqual([...answered].sort());
}, 120_000);

it.each([
  ['process.exit', 'process.exit(3);', { code: 3, signal: null }],
  ['an uncaught error', "throw new Error('boom');", { code: 1, signal: null }],
])('writes out the pending lines when the process ends by %s right after logging them', async (_name, ending, expected) => {
  const logging = pathToFileURL(resolve(ROOT, 'dist/apps/auth-server/libs/logging/src/index.js')).href;
  // 100 lines (under the 16 KiB that would make the batch be written at once), then the end, at once.
  const script = [
    `const { createLogger } = await import(${JSON.stringify(logging)});`,
    `const logger = createLogger({ level: 'info', format: 'json' }, { app: 'test', batched: true });`,
    `for (let i = 0; i < 100; i++) logger.info({ i }, 'line');`,
    ending,
  ].join('\n');
  const child = spawnNode('batched', ['--input-type=module', '-e', script], {}, { exitWithParent: false });
  const exit = await child.closed;
  expect(exit).toEqual(expected);
  const lines = child.output.filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as Record<string, unknown>);
  expect(lines.map((line) => line.i)).toEqual(Array.from({ length: 100 }, (_, i) => i));
}, 60_000);
