// Debian's Chromium, driven by playwright-core (which never downloads a browser of its own), for tests
// that go through the auth server's pages as a person would.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

/**
 * What this machine's Chromium needs: headless as root without a sandbox, and none of the background
 * connections to Google that a closed network refuses (many at a time) at every start.
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

/** `TESSERA_CHROMIUM`, or Debian's `/usr/bin/chromium` (`apt-get install chromium`; .ci/run installs it). */
export function chromiumPath(): string {
  return process.env.TESSERA_CHROMIUM ?? '/usr/bin/chromium';
}

/** Headless Chromium on a fresh, empty profile in a temporary folder. */
export async function launchChromium(): Promise<TestBrowser> {
  const executablePath = chromiumPath();
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
    throw new Error(`cannot start Chromium at ${executablePath} (set TESSERA_CHROMIUM, or apt-get install chromium): ${reason}`, { cause: e });
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
