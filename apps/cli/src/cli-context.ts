import { loadAuthServerConfig, type AuthServerConfig } from '@tessera/config';
import { createLogger, PinoAuditLog } from '@tessera/logging';
import type { ServerStorage } from '@tessera/oauth-core';
import { createDataSource, typeOrmStorage } from '@tessera/persistence';
import { composeAdministration, type Administration } from '@tessera/server';
import { CliError, type CliIo } from './cli-io.js';

/**
 * What a command works with: the server's own settings, its database (migrated) as storage ports, and the
 * services built from them by the same composition function as the server's (same hashers, same key encryption).
 */
export interface CliContext {
  tokens: AuthServerConfig['tokens'];
  grants: AuthServerConfig['features']['grants'];
  storage: ServerStorage;
  admin: Administration;
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
  const storage = typeOrmStorage(dataSource, { maxTokenTtlSeconds: config.tokens.maxAccessTokenTtl });
  return {
    tokens: config.tokens,
    grants: config.features.grants,
    storage,
    // What the operator changes (clients, users, keys) is audited as the servers audit theirs: a line on standard error.
    admin: composeAdministration(config, storage, { audit: new PinoAuditLog(createLogger(config.logging, { app: 'cli', fd: 2 })) }),
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
