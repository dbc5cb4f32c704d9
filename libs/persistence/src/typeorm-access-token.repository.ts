import { AccessTokenRepository, type AccessTokenClaims, type StoredAccessToken } from '@tessera/oauth-core';
import { IsNull, type DataSource } from 'typeorm';
import type { Pool } from 'pg';
import { isDatabaseOutage, translateOutage } from './database-outage.js';
import { AccessTokenEntity } from './entities/access-token.entity.js';
import { GroupCommit } from './group-commit.js';
import { recordTokenRevocation } from './typeorm-revocation.repository.js';

export class TypeOrmAccessTokenRepository extends AccessTokenRepository {
  constructor(private readonly dataSource: DataSource) {
    super();
  }

  /** Concurrent issuances share one multi-row INSERT (one commit): see `GroupCommit`. */
  private readonly inserts = new GroupCommit<AccessTokenRow>((rows) => this.insertRows(rows), {
    maxRows: MAX_ROWS_PER_INSERT,
    maxInFlight: MAX_INSERTS_IN_FLIGHT,
  });

  /** Resolves once the row is committed, in one statement with the rows of concurrent calls. */
  insert(tokenHash: string, claims: AccessTokenClaims): Promise<void> {
    return translateOutage(() =>
      this.inserts.add([
        tokenHash,
        claims.jti,
        claims.clientId,
        claims.iss,
        claims.sub,
        claims.aud,
        claims.scope,
        claims.grantId ?? null,
        fromEpochSeconds(claims.iat),
        fromEpochSeconds(claims.exp),
      ]),
    );
  }

  /**
   * One INSERT ... VALUES (...), (...) on the pool's connection (autocommit: it returns once committed), as a
   * prepared statement per row count. When it fails for a reason other than an outage (a row whose client was
   * deleted meanwhile, say) and it carried several rows, each row is tried alone, so only its own caller fails.
   */
  private async insertRows(rows: AccessTokenRow[]): Promise<void> {
    try {
      await this.pool().query({ name: `tessera_insert_access_tokens_${rows.length}`, text: insertStatement(rows.length), values: rows.flat() });
    } catch (error) {
      if (rows.length === 1 || isDatabaseOutage(error)) throw error;
      const outcomes = await Promise.allSettled(rows.map((row) => this.insertRows([row])));
      const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
      if (failed) throw failed.reason;
    }
  }

  /** node-postgres's pool under the data source (TypeORM's Postgres driver keeps it as `master`). */
  private pool(): Pool {
    const pool = (this.dataSource.driver as unknown as { master?: Pool }).master;
    if (!pool) throw new Error('the data source is not initialized, or not PostgreSQL');
    return pool;
  }

  findByHash(tokenHash: string): Promise<StoredAccessToken | null> {
    return translateOutage(async () => {
      const row = await this.dataSource.manager.findOneBy(AccessTokenEntity, { tokenHash });
      if (!row) return null;
      const claims: AccessTokenClaims = {
        jti: row.jti,
        iss: row.issuer,
        sub: row.subject,
        clientId: row.clientId,
        aud: row.audience,
        scope: row.scopes,
        iat: toEpochSeconds(row.issuedAt),
        exp: toEpochSeconds(row.expiresAt),
        grantId: row.grantId,
        format: 'opaque',
      };
      return { claims, revokedAt: row.revokedAt };
    });
  }

  revoke(tokenHash: string, at: Date): Promise<boolean> {
    return translateOutage(() =>
      this.dataSource.transaction(async (manager) => {
        // The row lock makes a concurrent second revoke wait, then find revoked_at set: it returns false.
        const { raw } = await manager
          .createQueryBuilder()
          .update(AccessTokenEntity)
          .set({ revokedAt: at })
          .where({ tokenHash, revokedAt: IsNull() })
          .returning(['jti', 'clientId', 'expiresAt', 'audience'])
          .updateEntity(false)
          .execute();
        const [token] = raw as { jti: string; client_id: string; expires_at: Date; audience: string[] }[];
        if (!token) return false;
        await recordTokenRevocation(manager, {
          jti: token.jti,
          clientId: token.client_id,
          audience: token.audience,
          expiresAt: token.expires_at,
          revokedAt: at,
        });
        return true;
      }),
    );
  }
}

/** Rows per INSERT at most (10 parameters each, far below PostgreSQL's 65535). */
const MAX_ROWS_PER_INSERT = 64;
/** INSERTs running at once: while they run, new rows queue for the next one. */
const MAX_INSERTS_IN_FLIGHT = 2;

/** The columns of `insertStatement`, in order. */
type AccessTokenRow = [string, string, string, string, string, string[], string[], string | null, Date, Date];
const COLUMNS = ['token_hash', 'jti', 'client_id', 'issuer', 'subject', 'audience', 'scopes', 'grant_id', 'issued_at', 'expires_at'];
const statements = new Map<number, string>();
function insertStatement(rowCount: number): string {
  let text = statements.get(rowCount);
  if (!text) {
    const values = Array.from({ length: rowCount }, (_, r) => `(${COLUMNS.map((_, c) => `$${r * COLUMNS.length + c + 1}`).join(', ')})`);
    text = `INSERT INTO access_tokens (${COLUMNS.join(', ')}) VALUES ${values.join(', ')}`;
    statements.set(rowCount, text);
  }
  return text;
}

const fromEpochSeconds = (seconds: number) => new Date(seconds * 1000);
const toEpochSeconds = (date: Date) => Math.floor(date.getTime() / 1000);
