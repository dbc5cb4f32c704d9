import { loadAuthServerConfig, type AuthServerConfig } from '@tessera/config';
import { SystemClock, type Clock } from '@tessera/oauth-core';
import { createDataSource } from '@tessera/persistence';
import { ClientSecretHasher, KeyEncryptionKeys } from '@tessera/tokens';
import type { DataSource } from 'typeorm';
import { CliError, type CliIo } from './cli-io.js';

/** What a command works with: the server's own settings, and its database, migrated. */
export interface CliContext {
  tokens: AuthServerConfig['tokens'];
  grants: AuthServerConfig['features']['grants'];
  dataSource: DataSource;
  clock: Clock;
  /** The key-encryption keys of TESSERA_KEY_ENCRYPTION_KEY (and TESSERA_PREVIOUS_KEY_ENCRYPTION_KEY). */
  encryption: KeyEncryptionKeys;
  /** Hashes client secrets as the servers do (the pepper derived from the key-encryption key). */
  secretHasher: ClientSecretHasher;
  /** Names of the migrations this run applied. */
  applied: string[];
}

/**
 * Reads the auth server's configuration (the same variables, validated the
 * same way, so a secret hashed or a key encrypted here works there), connects
 * to DATABASE_URL and applies pending migrations.
 */
export async function openContext(io: CliIo, env: Record<string, string | undefined> = process.env): Promise<CliContext & { close: () => Promise<void> }> {
  const config = loadAuthServerConfig(env);
  const encryption = new KeyEncryptionKeys({ current: config.tokens.keyEncryptionKey, previous: config.tokens.previousKeyEncryptionKey });
  const where = describeUrl(config.database.url);
  const dataSource = createDataSource(config.database.url);
  try {
    await dataSource.initialize();
  } catch (e) {
    throw new CliError(`cannot connect to PostgreSQL at ${where}: ${messageOf(e)}`);
  }
  let applied: string[];
  try {
    applied = (await dataSource.runMigrations({ transaction: 'each' })).map((m) => m.name);
  } catch (e) {
    await dataSource.destroy().catch(() => undefined);
    throw new CliError(`migrating ${where} failed: ${messageOf(e)}`);
  }
  for (const name of applied) io.err.write(`applied migration ${name}\n`);
  return {
    tokens: config.tokens,
    grants: config.features.grants,
    dataSource,
    clock: new SystemClock(),
    encryption,
    secretHasher: new ClientSecretHasher({ pepper: config.tokens.clientSecretPepper, keys: encryption }),
    applied,
    close: () => dataSource.destroy(),
  };
}

/** host:port/database, never the password. */
function describeUrl(url: string): string {
  const u = new URL(url);
  return `${u.hostname}:${u.port || 5432}${u.pathname}`;
}

function messageOf(e: unknown): string {
  if (e instanceof AggregateError && e.errors.length > 0) return e.errors.map(messageOf).join('; ');
  return e instanceof Error ? e.message || e.constructor.name : String(e);
}
