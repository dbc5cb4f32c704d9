// What `npm run build` makes (dist/ for the three apps), and whether it is up to date.
//
// Up to date means: every app's entry point exists, and dist/.build-stamp.json holds
// the same fingerprint as the inputs have now. The fingerprint is a SHA-256 over
// the path and content of every input: the apps' and libraries' TypeScript sources
// (not their tests, which no build reads), the TypeScript and Nest configuration,
// and package-lock.json. Content, not modification times: a branch switched away
// and back, or a file touched without a change, is not a change; a deleted dist is.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

export const APPS = ['auth-server', 'resource-server', 'cli'];

/** dist/apps/<app>/apps/<app>/src/main.js (rootDir is the repository). */
export const entryPoint = (app) => `dist/apps/${app}/apps/${app}/src/main.js`;

const STAMP = 'dist/.build-stamp.json';
const TEST_FILE = /\.(spec|int-spec|e2e-spec)\.ts$/;
/** libs/testing is only for tests: no app imports it. */
const LIBS_NOT_BUILT = new Set(['testing']);

function sourceFiles(root) {
  const dirs = [
    ...APPS.map((app) => join(root, 'apps', app, 'src')),
    ...(existsSync(join(root, 'libs')) ? readdirSync(join(root, 'libs')) : [])
      .filter((lib) => !LIBS_NOT_BUILT.has(lib))
      .map((lib) => join(root, 'libs', lib, 'src')),
  ];
  const files = [];
  const visit = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) visit(path);
      else if (entry.name.endsWith('.ts') && !TEST_FILE.test(entry.name)) files.push(path);
    }
  };
  for (const dir of dirs) if (existsSync(dir)) visit(dir);
  const config = ['tsconfig.json', 'nest-cli.json', 'package-lock.json', ...APPS.map((app) => `apps/${app}/tsconfig.app.json`)];
  return [...files, ...config.map((f) => join(root, f)).filter((f) => existsSync(f))];
}

/** The inputs' fingerprint (hex SHA-256). */
export function fingerprint(root) {
  const hash = createHash('sha256');
  for (const file of sourceFiles(root).map((f) => relative(root, f)).sort()) {
    hash.update(`${file}\0${createHash('sha256').update(readFileSync(join(root, file))).digest('hex')}\n`);
  }
  return hash.digest('hex');
}

/** null when dist is up to date, else why a build is needed. */
export function staleness(root, current = fingerprint(root)) {
  const missing = APPS.map(entryPoint).filter((file) => !existsSync(join(root, file)));
  if (missing.length > 0) return `${missing.join(', ')} missing`;
  let stamp;
  try {
    stamp = JSON.parse(readFileSync(join(root, STAMP), 'utf8'));
  } catch {
    return `${STAMP} missing (dist was not built by npm run build)`;
  }
  return stamp.fingerprint === current ? null : 'sources, configuration or package-lock.json changed since the last build';
}

/** Runs `nest build <app>` for each app, then writes the stamp. Rejects when a build fails; `signal` stops the builds. */
export async function build(root, { onLog = () => {}, signal } = {}) {
  const current = fingerprint(root);
  // A failed or interrupted build leaves no stamp, so the next start builds again.
  rmSync(join(root, STAMP), { force: true });
  const nest = resolve(root, 'node_modules/@nestjs/cli/bin/nest.js');
  if (!existsSync(nest)) throw new Error('@nestjs/cli is not installed: run `npm install` first');
  // Side by side: each app has its own outDir.
  const started = Date.now();
  const results = await Promise.all(
    APPS.map(
      (app) =>
        new Promise((res, rej) => {
          const child = spawn(process.execPath, [nest, 'build', app], { cwd: root, stdio: 'inherit', signal });
          child.once('error', (e) => (e.name === 'AbortError' ? undefined : rej(e)));
          child.once('close', (code, signal) => res({ app, code, signal }));
        }),
    ),
  );
  const failed = results.filter((r) => r.code !== 0);
  if (failed.length > 0) {
    throw new Error(`${failed.map((r) => `nest build ${r.app} failed (${r.signal ?? `exit code ${r.code}`})`).join('; ')}; see above`);
  }
  onLog(`built ${APPS.join(', ')} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  mkdirSync(join(root, 'dist'), { recursive: true });
  writeFileSync(join(root, STAMP), `${JSON.stringify({ fingerprint: current, builtAt: new Date().toISOString() })}\n`);
}

/** Builds when dist is not up to date; resolves to whether it built. */
export async function buildIfChanged(root, { onLog = () => {}, signal } = {}) {
  const why = staleness(root);
  if (!why) {
    onLog('build is up to date (no source, configuration or package-lock.json change): skipping it');
    return false;
  }
  onLog(`building: ${why}`);
  await build(root, { onLog, signal });
  return true;
}
