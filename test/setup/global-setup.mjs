// One PostgreSQL for the whole test run; every test file makes its own database in it.
// DATABASE_URL (or TESSERA_TEST_DATABASE_URL) points the tests at an external server instead.
import { resolve } from 'node:path';
import { freePort, startEmbeddedPostgres } from '../../scripts/lib/embedded-postgres.mjs';

export default async function globalSetup() {
  const external = process.env.TESSERA_TEST_DATABASE_URL ?? process.env.DATABASE_URL;
  if (external) {
    process.env.TESSERA_TEST_ADMIN_URL = external;
    return;
  }
  const port = await freePort();
  const pg = await startEmbeddedPostgres({
    dataDir: resolve('.tessera', `test-pg-${process.pid}`),
    port,
    persistent: false,
    fast: true,
  });
  process.env.TESSERA_TEST_ADMIN_URL = pg.url;
  globalThis.__tesseraPostgres = pg;
}
