// Databases scripts/start.mjs prepares before the apps start.
import pg from 'pg';

/** `url` with its database name replaced. */
export function withDatabase(url, database) {
  const u = new URL(url);
  u.pathname = `/${encodeURIComponent(database)}`;
  return u.toString();
}

/** The database name of a postgres:// URL. */
export function databaseName(url) {
  return decodeURIComponent(new URL(url).pathname.replace(/^\//, '')) || 'postgres';
}

/**
 * Creates `database` on the server of `adminUrl` (connecting as that URL's
 * user) unless it exists. Resolves to the new database's URL.
 */
export async function ensureDatabase(adminUrl, database, { onLog = () => {} } = {}) {
  const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (rowCount === 0) {
      try {
        await client.query(`CREATE DATABASE "${database.replaceAll('"', '""')}"`);
        onLog(`created database ${database}`);
      } catch (e) {
        if (e?.code !== '42P04') throw e; // created concurrently: fine
      }
    }
  } finally {
    await client.end().catch(() => undefined);
  }
  return withDatabase(adminUrl, database);
}
