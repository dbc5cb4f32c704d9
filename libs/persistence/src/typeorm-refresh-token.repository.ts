import { issuedBeforeNow, RefreshTokenRepository, type RefreshToken, type StoredRefreshToken } from '@tessera/oauth-core';
import type { DataSource } from 'typeorm';
import { CHANGE_CHANNEL, changePayload } from './change-notification.js';
import { isDatabaseOutage, translateOutage } from './database-outage.js';
import { RefreshTokenEntity } from './entities/refresh-token.entity.js';
import { GroupCommit } from './group-commit.js';
import { preparedQuery } from './pg-pool.js';
import { DEFAULT_MAX_TOKEN_TTL_SECONDS, REVOCATION_LOG_LOCK } from './typeorm-revocation.repository.js';

export class TypeOrmRefreshTokenRepository extends RefreshTokenRepository {
  /** @param maxTokenTtlSeconds the longest lifetime of an access token, so a grant's issued-before mark can be purged after it. */
  constructor(
    private readonly dataSource: DataSource,
    private readonly maxTokenTtlSeconds = DEFAULT_MAX_TOKEN_TTL_SECONDS,
  ) {
    super();
  }

  insert(tokenHash: string, token: RefreshToken): Promise<void> {
    return translateOutage(async () => {
      await this.dataSource.manager.insert(RefreshTokenEntity, toRow(tokenHash, token));
    });
  }

  /** A prepared statement: the refresh grant's first read. */
  findByHash(tokenHash: string): Promise<StoredRefreshToken | null> {
    return translateOutage(async () => {
      const [row] = await preparedQuery<RefreshTokenRow>(this.dataSource, { name: 'tessera_refresh_token_by_hash', text: FIND_BY_HASH, values: [tokenHash] });
      return row ? fromRow(row) : null;
    });
  }

  /**
   * Concurrent rotations share one statement (one commit), see ROTATE; each call answers once that statement has
   * committed, true when its token was the one rotated. Of the calls for one token in one batch, only the first goes
   * to the statement and the others are false at once: whichever way the statement goes for it, they would not win.
   */
  private readonly rotations = new GroupCommit<RotationRow, boolean>((batch) => this.rotateBatch(batch), {
    maxRows: MAX_ROTATIONS_PER_BATCH,
    maxInFlight: MAX_ROTATIONS_IN_FLIGHT,
  });

  rotate(tokenHash: string, at: Date, nextHash: string, next: RefreshToken): Promise<boolean> {
    return translateOutage(() =>
      this.rotations.add({
        token_hash: tokenHash,
        rotated_at: at,
        next_hash: nextHash,
        family_id: next.familyId,
        client_id: next.clientId,
        subject: next.subject,
        scopes: next.scope,
        audience: next.audience,
        grant_id: next.grantId,
        issued_at: next.issuedAt,
        family_issued_at: next.familyIssuedAt,
        expires_at: next.expiresAt,
      }),
    );
  }

  /**
   * One statement for the batch. When it fails for a reason other than an outage (a deadlock between two batches
   * that share tokens, say) and it carried several rotations, each is tried alone, so only its own caller fails.
   */
  private async rotateBatch(batch: RotationRow[]): Promise<boolean[]> {
    const hashes = new Set<string>();
    const sent = new Set(batch.filter((row) => !hashes.has(row.token_hash) && hashes.add(row.token_hash)));
    let rotated: Set<string>;
    try {
      const rows = await preparedQuery<{ token_hash: string }>(this.dataSource, { name: 'tessera_refresh_token_rotate_batch', text: ROTATE, values: [JSON.stringify([...sent])] });
      rotated = new Set(rows.map((r) => r.token_hash));
    } catch (error) {
      if (sent.size === 1 || isDatabaseOutage(error)) throw error;
      const alone = await Promise.all([...sent].map(async (row) => ((await this.rotateBatch([row]))[0] ? row.token_hash : null)));
      rotated = new Set(alone.filter((hash): hash is string => hash !== null));
    }
    return batch.map((row) => sent.has(row) && rotated.has(row.token_hash));
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

const FIND_BY_HASH =
  'SELECT family_id, client_id, subject, scopes, audience, grant_id, issued_at, family_issued_at, expires_at, rotated_at, revoked_at FROM refresh_tokens WHERE token_hash = $1';

/** One rotation as ROTATE reads it from its JSON parameter. */
interface RotationRow {
  token_hash: string;
  rotated_at: Date;
  next_hash: string;
  family_id: string;
  client_id: string;
  subject: string;
  scopes: string[];
  audience: string[];
  grant_id: string;
  issued_at: Date;
  family_issued_at: Date;
  expires_at: Date;
}

/** Rotations per statement at most. */
const MAX_ROTATIONS_PER_BATCH = 64;
/** Statements running at once: while they run, new rotations queue for the next one. */
const MAX_ROTATIONS_IN_FLIGHT = 2;

/**
 * Rotations in one statement, so in one transaction: mark each token rotated (when it is neither rotated nor revoked)
 * and insert the next one of each token that was, returning the tokens rotated. The row lock makes a concurrent
 * rotation of the same token (in another statement, on any instance) wait, then find rotated_at set: it updates
 * nothing, inserts nothing and returns no row for it, so of two exactly one succeeds. A token appears once per batch.
 */
const ROTATE = `WITH batch AS (
    SELECT * FROM jsonb_to_recordset($1::jsonb) AS b(token_hash text, rotated_at timestamptz, next_hash text, family_id uuid, client_id text,
      subject text, scopes text[], audience text[], grant_id uuid, issued_at timestamptz, family_issued_at timestamptz, expires_at timestamptz)
  ),
  rotated AS (
    UPDATE refresh_tokens t SET rotated_at = b.rotated_at FROM batch b
    WHERE t.token_hash = b.token_hash AND t.rotated_at IS NULL AND t.revoked_at IS NULL RETURNING t.token_hash
  ),
  inserted AS (
    INSERT INTO refresh_tokens (token_hash, family_id, client_id, subject, scopes, audience, grant_id, issued_at, family_issued_at, expires_at)
    SELECT b.next_hash, b.family_id, b.client_id, b.subject, b.scopes, b.audience, b.grant_id, b.issued_at, b.family_issued_at, b.expires_at
    FROM batch b JOIN rotated r ON r.token_hash = b.token_hash
  )
  SELECT token_hash FROM rotated`;

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
