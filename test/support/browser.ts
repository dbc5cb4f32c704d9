// Headless Chromium driven by playwright-core (which never downloads a browser of its own), for tests
// that go through the auth server's pages as a person would. The binary: TESSERA_CHROMIUM when set, else
// the system's /usr/bin/chromium when there is one, else the one the npm package @sparticuz/chromium
// ships (so a machine with only Node needs nothing installed from the system).
import { accessSync, constants } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sparticuzChromium from '@sparticuz/chromium';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

/**
 * Headless as root without a sandbox, and none of the background connections to Google that a closed
 * network refuses (many at a time) at every start. Not the package's own `args`: they turn web security
 * off, and the tests check CORS.
 */
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface TestBrowser {
  context: BrowserContext;
  /** The binary that runs, and why it was chosen. */
  executable: { source: ChromiumSource; path: string };
  /** A new tab. */
  newPage(): Promise<Page>;
  /** Forgets every cookie, so the next page starts as a new visitor. */
  clearCookies(): Promise<void>;
  /** Closes Chromium and removes its profile. */
  close(): Promise<void>;
}

export const SYSTEM_CHROMIUM = '/usr/bin/chromium';

export type ChromiumSource = 'TESSERA_CHROMIUM' | 'system' | '@sparticuz/chromium';

export interface ChromiumChoice {
  source: ChromiumSource;
  /** The binary's path; for @sparticuz/chromium, known only once it is unpacked (see chromiumExecutable). */
  path: string | null;
}

/**
 * Which Chromium the tests run: `TESSERA_CHROMIUM` (when not empty), else the system's `/usr/bin/chromium`
 * when it is there and executable, else @sparticuz/chromium's.
 */
export function chooseChromium(
  env: Record<string, string | undefined> = process.env,
  executable: (path: string) => boolean = isExecutable,
): ChromiumChoice {
  if (env.TESSERA_CHROMIUM) return { source: 'TESSERA_CHROMIUM', path: env.TESSERA_CHROMIUM };
  if (executable(SYSTEM_CHROMIUM)) return { source: 'system', path: SYSTEM_CHROMIUM };
  return { source: '@sparticuz/chromium', path: null };
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The chosen binary's path; @sparticuz/chromium's is unpacked into the temporary folder on first use. */
export async function chromiumExecutable(choice = chooseChromium()): Promise<{ source: ChromiumSource; path: string }> {
  return { source: choice.source, path: choice.path ?? (await sparticuzChromium.executablePath()) };
}

/** Headless Chromium on a fresh, empty profile in a temporary folder. */
export async function launchChromium(): Promise<TestBrowser> {
  const executable = await chromiumExecutable();
  const executablePath = executable.path;
  const userDataDir = await mkdtemp(join(tmpdir(), 'tessera-chromium-'));
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 1024, height: 768 },
      timeout: 30_000,
    });
  } catch (e) {
    await rm(userDataDir, { recursive: true, force: true });
    const reason = e instanceof Error ? e.message.split('\n')[0] : String(e);
    const why = { TESSERA_CHROMIUM: 'named by TESSERA_CHROMIUM', system: 'the system\'s; TESSERA_CHROMIUM names another one', '@sparticuz/chromium': 'from @sparticuz/chromium; TESSERA_CHROMIUM names another one' }[executable.source];
    throw new Error(`cannot start Chromium at ${executablePath} (${why}): ${reason}`, { cause: e });
  }
  // A persistent context opens with one blank tab; tests open their own.
  await Promise.all(context.pages().map((p) => p.close()));
  return {
    context,
    executable,
    newPage: () => context.newPage(),
    clearCookies: () => context.clearCookies(),
    async close() {
      await context.close().catch(() => undefined);
      await rm(userDataDir, { recursive: true, force: true });
    },
  };
}
