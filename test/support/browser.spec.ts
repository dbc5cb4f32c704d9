// Which Chromium the browser tests run: the one named, else the system's, else the npm package's.
import { existsSync } from 'node:fs';
import { chooseChromium, chromiumExecutable, SYSTEM_CHROMIUM } from './browser.js';

describe('chooseChromium', () => {
  const none = () => false;
  const systemOnly = (path: string) => path === SYSTEM_CHROMIUM;

  it('takes TESSERA_CHROMIUM first, even with a system Chromium', () => {
    expect(chooseChromium({ TESSERA_CHROMIUM: '/opt/chrome/chrome' }, systemOnly)).toEqual({ source: 'TESSERA_CHROMIUM', path: '/opt/chrome/chrome' });
  });

  it('takes /usr/bin/chromium when it is there and TESSERA_CHROMIUM is unset or empty', () => {
    expect(chooseChromium({}, systemOnly)).toEqual({ source: 'system', path: '/usr/bin/chromium' });
    expect(chooseChromium({ TESSERA_CHROMIUM: '' }, systemOnly)).toEqual({ source: 'system', path: '/usr/bin/chromium' });
  });

  it("falls back to @sparticuz/chromium's binary on a machine with neither", () => {
    expect(chooseChromium({}, none)).toEqual({ source: '@sparticuz/chromium', path: null });
  });

  it('unpacks @sparticuz/chromium to a binary that exists', async () => {
    const { source, path } = await chromiumExecutable({ source: '@sparticuz/chromium', path: null });
    expect(source).toBe('@sparticuz/chromium');
    expect(path).not.toBe(SYSTEM_CHROMIUM);
    expect(existsSync(path)).toBe(true);
  }, 60_000);
});
