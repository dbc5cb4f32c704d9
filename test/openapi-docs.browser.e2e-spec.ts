// The /docs page in a real browser: it loads under its Content-Security-Policy with nothing refused and
// nothing fetched from elsewhere, its stylesheet applies, an operation opens without script, and its link
// leads to the OpenAPI document. A screenshot goes to test/screenshots/ (not committed), to be looked at.
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { startAuthServer, type RunningAuthServer } from '../apps/auth-server/test/auth-server.harness.js';
import { launchChromium, type TestBrowser } from './support/browser.js';

const SCREENSHOTS = fileURLToPath(new URL('./screenshots/', import.meta.url));

let server: RunningAuthServer;
let browser: TestBrowser;

beforeAll(async () => {
  const started = Promise.all([launchChromium(), mkdir(SCREENSHOTS, { recursive: true })]);
  server = await startAuthServer();
  [browser] = await started;
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

it('shows the API description, styled, with no script and nothing refused by its policy', async () => {
  const page = await browser.newPage();
  page.setDefaultTimeout(10_000);
  const console: string[] = [];
  const requested: string[] = [];
  page.on('console', (m) => console.push(`${m.type()}: ${m.text()}`));
  page.on('request', (r) => requested.push(r.url()));

  const response = await page.goto(`${server.url}/docs`);
  expect(response!.status()).toBe(200);
  expect(await page.title()).toBe('Tessera authorization server · API');
  // Only the page and its own stylesheet (a favicon request, if any, stays on this origin).
  expect(requested.filter((u) => !u.endsWith('/favicon.ico'))).toEqual([`${server.url}/docs`, `${server.url}/docs/docs.css`]);
  expect(requested.every((u) => u.startsWith(server.url))).toBe(true);
  // A CSP violation would be reported on the console.
  expect(console.filter((m) => !m.includes('favicon.ico'))).toEqual([]);

  const token = page.locator('details#token');
  expect(await token.evaluate((el) => getComputedStyle(el).borderTopWidth)).toBe('1px');
  expect(await token.evaluate((el) => (el as HTMLDetailsElement).open)).toBe(false);
  await token.locator('summary').click();
  expect(await token.evaluate((el) => (el as HTMLDetailsElement).open)).toBe(true);
  await page.screenshot({ path: `${SCREENSHOTS}docs.png` });
  await token.screenshot({ path: `${SCREENSHOTS}docs-token.png` });
  expect(await token.getByText('application/x-www-form-urlencoded').first().isVisible()).toBe(true);

  await page.getByRole('link', { name: '/openapi.json', exact: true }).click();
  await page.waitForURL(`${server.url}/openapi.json`);
  expect(JSON.parse((await page.locator('body').innerText()).trim()).openapi).toBe('3.1.0');
  await page.close();
});
