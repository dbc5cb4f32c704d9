// Headless Chromium from the npm package @sparticuz/chromium (it ships the binary; nothing to install
// from the system), driven by playwright-core (which never downloads a browser of its own), for tests
// that go through the auth server's pages as a person would.
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
  /** A new tab. */
  newPage(): Promise<Page>;
  /** Forgets every cookie, so the next page starts as a new visitor. */
  clearCookies(): Promise<void>;
  /** Closes Chromium and removes its profile. */
  close(): Promise<void>;
}

/** `TESSERA_CHROMIUM`, or the binary of @sparticuz/chromium (unpacked into the temporary folder on first use). */
export async function chromiumPath(): Promise<string> {
  return process.env.TESSERA_CHROMIUM ?? (await sparticuzChromium.executablePath());
}

/** Headless Chromium on a fresh, empty profile in a temporary folder. */
export async function launchChromium(): Promise<TestBrowser> {
  const executablePath = await chromiumPath();
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
    throw new Error(`cannot start Chromium at ${executablePath} (TESSERA_CHROMIUM names another one): ${reason}`, { cause: e });
  }
  // A persistent context opens with one blank tab; tests open their own.
  await Promise.all(context.pages().map((p) => p.close()));
  return {
    context,
    newPage: () => context.newPage(),
    clearCookies: () => context.clearCookies(),
    async close() {
      await context.close().catch(() => undefined);
      await rm(userDataDir, { recursive: true, force: true });
    },
  };
}
