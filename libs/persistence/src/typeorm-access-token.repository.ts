import { AccessTokenRepository, type AccessTokenClaims, type StoredAccessToken } from '@tessera/oauth-core';
import type { DataSource } from 'typeorm';
import { CHANGE_CHANNEL, changePayload } from './change-notification.js';
import { isDatabaseOutage, translateOutage } from './database-outage.js';
import { GroupCommit, type GroupCommitObserver } from './group-commit.js';
import { preparedQuery } from './pg-pool.js';
import { REVOCATION_LOG_LOCK } from './typeorm-revocation.repository.js';

export class TypeOrmAccessTokenRepository extends AccessTokenRepository {
  constructor(
    private readonly dataSource: DataSource,
    private readonly groupCommits?: GroupCommitObserver,
  ) {
    super();
  }

  /** Concurrent issuances share one multi-row INSERT (one commit): see `GroupCommit`. */
  private readonly inserts = new GroupCommit<AccessTokenRow>((rows) => this.insertRows(rows), {
    maxRows: MAX_ROWS_PER_INSERT,
    maxInFlight: MAX_INSERTS_IN_FLIGHT,
    observe: (rows) => this.groupCommits?.('access_token_insert', rows),
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
      await preparedQuery(this.dataSource, { name: `tessera_insert_access_tokens_${rows.length}`, text: insertStatement(rows.length), values: rows.flat() });
    } catch (error) {
      if (rows.length === 1 || isDatabaseOutage(error)) throw error;
      const outcomes = await Promise.allSettled(rows.map((row) => this.insertRows([row])));
      const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
      if (failed) throw failed.reason;
    }
  }

  findByHash(tokenHash: string): Promise<StoredAccessToken | null> {
    return translateOutage(async () => {
      const [row] = await preparedQuery<TokenRow>(this.dataSource, { name: 'tessera_access_token_by_hash', text: FIND_BY_HASH, values: [tokenHash] });
      return row ? toStored(row) : null;
    });
  }

  /** The token and the revocation log's verdict on it in one prepared statement: introspection's one round trip. */
  override findByHashWithLog(tokenHash: string): Promise<(StoredAccessToken & { revokedByLog: boolean }) | null> {
    return translateOutage(async () => {
      const [row] = await preparedQuery<TokenRow & { revoked_by_log: boolean }>(this.dataSource, {
        name: 'tessera_access_token_with_log',
        text: FIND_WITH_LOG,
        values: [tokenHash],
      });
      return row ? { ...toStored(row), revokedByLog: row.revoked_by_log } : null;
    });
  }

  /**
   * Revocations are committed in batches (group commit): those that arrive while one batch runs go together in the
   * next, as one statement in its own transaction (one round trip, one commit, one turn of the log's lock). Each
   * call answers once its batch has committed. See REVOKE.
   */
  private readonly revocations = new GroupCommit<{ tokenHash: string; at: Date }, boolean>((batch) => this.revokeBatch(batch), {
    maxRows: MAX_REVOCATIONS_PER_BATCH,
    // One batch at a time: each takes the log's lock until its commit anyway.
    maxInFlight: 1,
    observe: (rows) => this.groupCommits?.('access_token_revocation', rows),
  });

  revoke(tokenHash: string, at: Date): Promise<boolean> {
    return translateOutage(() => this.revocations.add({ tokenHash, at }));
  }

  /** True for each entry whose token this batch revoked; a hash twice in one batch is revoked by its first entry only. */
  private async revokeBatch(batch: { tokenHash: string; at: Date }[]): Promise<boolean[]> {
    const rows = await preparedQuery<{ token_hash: string }>(this.dataSource, {
      name: 'tessera_access_token_revoke',
      text: REVOKE,
      values: [batch.map((r) => r.tokenHash), batch.map((r) => r.at), REVOCATION_LOG_LOCK, CHANGE_CHANNEL, changePayload({ kind: 'revocation' })],
    });
    const revoked = new Set(rows.map((r) => r.token_hash));
    return batch.map(({ tokenHash }) => revoked.delete(tokenHash));
  }
}

interface TokenRow {
  jti: string;
  client_id: string;
  issuer: string;
  subject: string;
  audience: string[];
  scopes: string[];
  grant_id: string | null;
  issued_at: Date;
  expires_at: Date;
  revoked_at: Date | null;
}

const TOKEN_COLUMNS = 't.jti, t.client_id, t.issuer, t.subject, t.audience, t.scopes, t.grant_id, t.issued_at, t.expires_at, t.revoked_at';

const FIND_BY_HASH = `SELECT ${TOKEN_COLUMNS} FROM access_tokens t WHERE t.token_hash = $1`;

/**
 * `TypeOrmRevocationRepository.isRevoked` of the row's own claims, as a column: its jti, or an issued-before mark
 * for its client (narrowed to its subject or grant when the mark names one) set after its iat (whole seconds). An
 * opaque token has no signing key, so no 'key' entry can match it.
 */
const FIND_WITH_LOG = `SELECT ${TOKEN_COLUMNS},
    EXISTS (SELECT 1 FROM revocations r WHERE r.jti = t.jti)
    OR EXISTS (
      SELECT 1 FROM revocations r
      WHERE r.kind = 'issued-before' AND r.client_id = t.client_id AND r.issued_before > date_trunc('second', t.issued_at)
        AND (r.subject IS NULL OR r.subject = t.subject)
        AND (r.grant_id IS NULL OR r.grant_id = t.grant_id)
    ) AS revoked_by_log
  FROM access_tokens t WHERE t.token_hash = $1`;

/**
 * A batch of revocations in one statement, in its own transaction: take the revocation log's lock, mark the tokens
 * revoked (those not revoked yet), append their entries and queue one notification. The lock CTE is volatile, so
 * PostgreSQL runs it once and never inlines it; the UPDATE's condition needs its row, so the lock is held before any
 * token row is locked (no lock-order deadlock between batches) and before the INSERT draws a seq, and it is held
 * until the commit, so entries still commit in seq order (see `appendToLog`). A token revoked concurrently (in
 * another batch, or by another instance) waits for its row lock, then finds revoked_at set and is left out. With no
 * token revoked, nothing is notified. A hash twice in the batch updates its row once, with the first entry's time.
 */
const REVOKE = `WITH log_lock AS (SELECT pg_advisory_xact_lock($3::bigint) AS locked),
  wanted AS (SELECT DISTINCT ON (h) h, at FROM unnest($1::text[], $2::timestamptz[]) WITH ORDINALITY AS u(h, at, n) ORDER BY h, n),
  token AS (
    UPDATE access_tokens t SET revoked_at = wanted.at FROM wanted
    WHERE t.token_hash = wanted.h AND t.revoked_at IS NULL AND EXISTS (SELECT 1 FROM log_lock)
    RETURNING t.token_hash, t.jti, t.client_id, t.audience, t.expires_at, t.revoked_at
  ),
  entry AS (
    INSERT INTO revocations (kind, jti, client_id, audience, expires_at, revoked_at)
    SELECT 'token', jti, client_id, audience, expires_at, revoked_at FROM token ORDER BY token_hash
    ON CONFLICT DO NOTHING
  ),
  notified AS (SELECT pg_notify($4, $5) FROM (SELECT 1 FROM token LIMIT 1) any_revoked)
  SELECT token_hash, (SELECT count(*) FROM notified) AS notified FROM token`;

function toStored(row: TokenRow): StoredAccessToken {
  const claims: AccessTokenClaims = {
    jti: row.jti,
    iss: row.issuer,
    sub: row.subject,
    clientId: row.client_id,
    aud: row.audience,
    scope: row.scopes,
    iat: toEpochSeconds(row.issued_at),
    exp: toEpochSeconds(row.expires_at),
    grantId: row.grant_id,
    format: 'opaque',
  };
  return { claims, revokedAt: row.revoked_at };
}

/** Rows per INSERT at most (10 parameters each, far below PostgreSQL's 65535). */
const MAX_ROWS_PER_INSERT = 64;
/** Revocations per statement at most. */
const MAX_REVOCATIONS_PER_BATCH = 500;
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
