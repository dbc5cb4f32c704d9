import { issuedBeforeNow, RefreshTokenRepository, type RefreshToken, type RefreshTokenWithUser, type StoredRefreshToken } from '@tessera/oauth-core';
import type { DataSource } from 'typeorm';
import { CHANGE_CHANNEL, changePayload } from './change-notification.js';
import { isDatabaseOutage, translateOutage } from './database-outage.js';
import { RefreshTokenEntity } from './entities/refresh-token.entity.js';
import { GroupCommit, type GroupCommitObserver } from './group-commit.js';
import { preparedQuery } from './pg-pool.js';
import { DEFAULT_MAX_TOKEN_TTL_SECONDS, REVOCATION_LOG_LOCK } from './typeorm-revocation.repository.js';

export class TypeOrmRefreshTokenRepository extends RefreshTokenRepository {
  /** @param maxTokenTtlSeconds the longest lifetime of an access token, so a grant's issued-before mark can be purged after it. */
  constructor(
    private readonly dataSource: DataSource,
    private readonly maxTokenTtlSeconds = DEFAULT_MAX_TOKEN_TTL_SECONDS,
    private readonly groupCommits?: GroupCommitObserver,
  ) {
    super();
  }

  /** Concurrent rotations share one statement (one commit): see `GroupCommit` and `rotateStatement`. */
  private readonly rotations = new GroupCommit<RotationRow, RotationOutcome>((rows) => this.rotateRows(rows), {
    maxRows: MAX_ROTATIONS_PER_STATEMENT,
    maxInFlight: MAX_ROTATIONS_IN_FLIGHT,
    observe: (rows) => this.groupCommits?.('refresh_token_rotation', rows),
  });

  insert(tokenHash: string, token: RefreshToken): Promise<void> {
    return translateOutage(async () => {
      await this.dataSource.manager.insert(RefreshTokenEntity, toRow(tokenHash, token));
    });
  }

  findByHash(tokenHash: string): Promise<StoredRefreshToken | null> {
    return translateOutage(async () => {
      const [row] = await preparedQuery<RefreshTokenRow>(this.dataSource, { name: 'tessera_refresh_token_by_hash', text: FIND_BY_HASH, values: [tokenHash] });
      return row ? fromRow(row) : null;
    });
  }

  /**
   * A prepared statement, see FIND_FOR_REFRESH: the refresh grant's first read. Lookups that arrive while one runs
   * share the next statement (`GroupCommit`'s batching, for reads): one round trip each still, fewer statements.
   */
  override findForRefresh(tokenHash: string): Promise<RefreshTokenWithUser | null> {
    return translateOutage(() => this.lookups.add(tokenHash));
  }

  private readonly lookups = new GroupCommit<string, RefreshTokenWithUser | null>((hashes) => this.findForRefreshRows(hashes), {
    maxRows: MAX_LOOKUPS_PER_STATEMENT,
    maxInFlight: MAX_LOOKUPS_IN_FLIGHT,
  });

  private async findForRefreshRows(hashes: string[]): Promise<(RefreshTokenWithUser | null)[]> {
    type Row = RefreshTokenRow & { token_hash: string; user_active: boolean };
    const rows =
      hashes.length === 1
        ? await preparedQuery<Row>(this.dataSource, { name: 'tessera_refresh_token_for_refresh', text: FIND_FOR_REFRESH, values: hashes })
        : await preparedQuery<Row>(this.dataSource, { name: 'tessera_refresh_tokens_for_refresh', text: FIND_MANY_FOR_REFRESH, values: [hashes] });
    const found = new Map(rows.map((row) => [row.token_hash, row]));
    return hashes.map((hash) => {
      const row = found.get(hash);
      return row ? { token: fromRow(row), userActive: row.user_active } : null;
    });
  }

  /**
   * Resolves once committed, in one statement with the rotations of concurrent calls (`rotateStatement`), each caller told
   * its own outcome.
   */
  rotate(tokenHash: string, at: Date, nextHash: string, next: RefreshToken): Promise<boolean> {
    return translateOutage(async () => {
      const outcome = await this.rotations.add([
        tokenHash, at, nextHash, next.familyId, next.clientId, next.subject, next.scope, next.audience, next.grantId, next.issuedAt, next.familyIssuedAt, next.expiresAt,
      ]);
      if (typeof outcome !== 'boolean') throw outcome.error;
      return outcome;
    });
  }

  /**
   * One statement on the pool's connection (autocommit: it returns once committed), prepared per row count (a lone
   * rotation: ROTATE, else `rotateStatement`'s). When it fails for a reason other than an outage and it carried several
   * rows, nothing of it was committed and each row is tried alone, so only its own caller fails.
   */
  private async rotateRows(rows: RotationRow[]): Promise<RotationOutcome[]> {
    try {
      if (rows.length === 1) return [(await preparedQuery(this.dataSource, { name: 'tessera_refresh_token_rotate', text: ROTATE, values: rows[0] })).length > 0];
      const won = await preparedQuery<{ n: number }>(this.dataSource, { name: `tessera_refresh_token_rotate_${rows.length}`, text: rotateStatement(rows.length), values: rows.flat() });
      const winners = new Set(won.map((r) => r.n));
      return rows.map((_, i) => winners.has(i + 1));
    } catch (error) {
      if (rows.length === 1 || isDatabaseOutage(error)) throw error;
      const outcomes = await Promise.allSettled(rows.map((row) => this.rotateRows([row])));
      return outcomes.map((o) => (o.status === 'fulfilled' ? o.value[0] : { error: o.reason }));
    }
  }

  /** One statement (autocommit), see REVOKE_GRANT. */
  revokeGrant(clientId: string, grantId: string, at: Date): Promise<void> {
    const issuedBefore = issuedBeforeNow(at);
    return translateOutage(async () => {
      await preparedQuery(this.dataSource, {
        name: 'tessera_refresh_token_revoke_grant',
        text: REVOKE_GRANT,
        values: [clientId, grantId, at, REVOCATION_LOG_LOCK, issuedBefore, new Date(issuedBefore.getTime() + this.maxTokenTtlSeconds * 1000), CHANGE_CHANNEL, changePayload({ kind: 'revocation' })],
      });
    });
  }
}

interface RefreshTokenRow {
  family_id: string;
  client_id: string;
  subject: string;
  scopes: string[];
  audience: string[];
  grant_id: string | null;
  issued_at: Date;
  family_issued_at: Date;
  expires_at: Date;
  rotated_at: Date | null;
  revoked_at: Date | null;
}

const COLUMNS = 'family_id, client_id, subject, scopes, audience, grant_id, issued_at, family_issued_at, expires_at, rotated_at, revoked_at';

const FIND_BY_HASH = `SELECT ${COLUMNS} FROM refresh_tokens WHERE token_hash = $1`;

/**
 * The token and whether its subject is a user allowed to sign in, by the users' primary key. A subject that is no
 * UUID names no user (as in TypeOrmUserRepository.findById), rather than failing the cast.
 */
const FOR_REFRESH_COLUMNS = `t.token_hash, ${COLUMNS},
    EXISTS (
      SELECT 1 FROM users u
      WHERE u.id = CASE WHEN t.subject ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' THEN t.subject::uuid END
        AND u.disabled_at IS NULL
    ) AS user_active`;
const FIND_FOR_REFRESH = `SELECT ${FOR_REFRESH_COLUMNS} FROM refresh_tokens t WHERE t.token_hash = $1`;
/** The same for several tokens (each hash once in the result, however often asked for). */
const FIND_MANY_FOR_REFRESH = `SELECT ${FOR_REFRESH_COLUMNS} FROM refresh_tokens t WHERE t.token_hash = ANY($1::text[])`;

/** Lookups per statement at most, and statements running at once (the pool has 6 connections). */
const MAX_LOOKUPS_PER_STATEMENT = 64;
const MAX_LOOKUPS_IN_FLIGHT = 2;

/** Rotations per statement at most (12 parameters each, far below PostgreSQL's 65535). */
const MAX_ROTATIONS_PER_STATEMENT = 64;
/** Rotation statements running at once: while they run, new rotations queue for the next one. */
const MAX_ROTATIONS_IN_FLIGHT = 2;

/** Whether the entry rotated its token, or why its statement failed (its own, when tried alone). */
type RotationOutcome = boolean | { error: unknown };
/** The token to rotate, the time, the next token's hash and its columns, in order (cast as `ROTATION_CASTS`). */
type RotationRow = [string, Date, string, string, string, string, string[], string[], string, Date, Date, Date];
const ROTATION_CASTS = ['text', 'timestamptz', 'text', 'uuid', 'text', 'text', 'text[]', 'text[]', 'uuid', 'timestamptz', 'timestamptz', 'timestamptz'];

/**
 * A lone rotation in one statement, so in one transaction: mark the token rotated (when it is neither rotated nor
 * revoked) and insert the next one only if it was. The row lock makes a concurrent rotation of the same token wait,
 * then find rotated_at set: it updates nothing, inserts nothing and returns no row, so of two exactly one succeeds.
 */
const ROTATE = `WITH rotated AS (
    UPDATE refresh_tokens SET rotated_at = $2 WHERE token_hash = $1 AND rotated_at IS NULL AND revoked_at IS NULL RETURNING token_hash
  )
  INSERT INTO refresh_tokens (token_hash, family_id, client_id, subject, scopes, audience, grant_id, issued_at, family_issued_at, expires_at)
  SELECT $3, $4, $5, $6, $7::text[], $8::text[], $9, $10, $11, $12 FROM rotated
  RETURNING token_hash`;

/**
 * Several rotations in one statement, so in one transaction. `wanted` is each rotated token once, with its first entry in
 * the batch (a token twice in one batch is rotated by its first caller only). `locked` takes the row lock of each
 * such token still neither rotated nor revoked, in the order of its hash: every rotation statement locks its rows in
 * that order, so two batches never wait on each other in a cycle. A token rotated or revoked concurrently (in
 * another batch, another instance, a grant's revocation) makes its lock wait for that transaction, then is found
 * changed and left out (READ COMMITTED rechecks the row's latest version): of two rotations exactly one succeeds.
 * The UPDATE marks the locked rows; the INSERT adds the next token of each entry that marked one; the entries that
 * won are returned by their number (1-based) in the batch.
 */
function rotateStatement(rowCount: number): string {
  let text = rotateStatements.get(rowCount);
  if (!text) {
    const per = ROTATION_CASTS.length;
    const values = Array.from({ length: rowCount }, (_, r) => `(${r + 1}, ${ROTATION_CASTS.map((cast, c) => `$${r * per + c + 1}::${cast}`).join(', ')})`);
    text = `WITH input (n, token_hash, at, next_hash, family_id, client_id, subject, scopes, audience, grant_id, issued_at, family_issued_at, expires_at) AS (
    VALUES ${values.join(', ')}
  ),
  wanted AS (SELECT DISTINCT ON (token_hash) n, token_hash, at FROM input ORDER BY token_hash, n),
  locked AS MATERIALIZED (
    SELECT t.token_hash, wanted.n, wanted.at FROM refresh_tokens t JOIN wanted ON wanted.token_hash = t.token_hash
    WHERE t.rotated_at IS NULL AND t.revoked_at IS NULL
    ORDER BY t.token_hash FOR UPDATE OF t
  ),
  rotated AS (
    UPDATE refresh_tokens t SET rotated_at = locked.at FROM locked
    WHERE t.token_hash = locked.token_hash AND t.rotated_at IS NULL AND t.revoked_at IS NULL
    RETURNING locked.n
  ),
  inserted AS (
    INSERT INTO refresh_tokens (token_hash, family_id, client_id, subject, scopes, audience, grant_id, issued_at, family_issued_at, expires_at)
    SELECT i.next_hash, i.family_id, i.client_id, i.subject, i.scopes, i.audience, i.grant_id, i.issued_at, i.family_issued_at, i.expires_at
    FROM input i JOIN rotated r ON r.n = i.n
  )
  SELECT n FROM rotated`;
    rotateStatements.set(rowCount, text);
  }
  return text;
}
const rotateStatements = new Map<number, string>();

/**
 * A grant's revocation in one statement, so in one transaction: revoke every refresh token of its family still
 * valid, then (after those row locks, the order every writer of the log follows) take the revocation log's lock,
 * append the grant's issued-before mark and queue one notification (see `appendToLog`). The lock's CTE reads the
 * UPDATE's rows, so it runs after it; the mark's INSERT and the notification read the lock's row, so they run after
 * it, and the lock is held until the commit.
 */
const REVOKE_GRANT = `WITH revoked AS (
    UPDATE refresh_tokens SET revoked_at = $3 WHERE client_id = $1 AND family_id = $2 AND revoked_at IS NULL RETURNING 1
  ),
  log_lock AS (SELECT pg_advisory_xact_lock($4::bigint) AS locked, revoked_count FROM (SELECT count(*) AS revoked_count FROM revoked) AS after_update),
  entry AS (
    INSERT INTO revocations (kind, client_id, grant_id, issued_before, expires_at, revoked_at)
    SELECT 'issued-before', $1, $2::uuid, $5::timestamptz, $6::timestamptz, $5::timestamptz FROM log_lock
    RETURNING seq
  ),
  notified AS (SELECT pg_notify($7, $8) FROM entry)
  SELECT (SELECT count(*) FROM entry) AS appended, (SELECT count(*) FROM notified) AS notified`;

function fromRow(row: RefreshTokenRow): StoredRefreshToken {
  return {
    familyId: row.family_id,
    clientId: row.client_id,
    subject: row.subject,
    scope: row.scopes,
    audience: row.audience,
    grantId: row.grant_id!,
    issuedAt: row.issued_at,
    familyIssuedAt: row.family_issued_at,
    expiresAt: row.expires_at,
    rotatedAt: row.rotated_at,
    revokedAt: row.revoked_at,
  };
}

function toRow(tokenHash: string, t: RefreshToken): Partial<RefreshTokenEntity> {
  const { scope, ...rest } = t;
  return { tokenHash, ...rest, scopes: scope, rotatedAt: null, revokedAt: null };
}
