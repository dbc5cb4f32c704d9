import { issuedBeforeNow, RefreshTokenRepository, type RefreshToken, type RefreshTokenWithUser, type StoredRefreshToken } from '@tessera/oauth-core';
import type { DataSource } from 'typeorm';
import { CHANGE_CHANNEL, changePayload } from './change-notification.js';
import { translateOutage } from './database-outage.js';
import { RefreshTokenEntity } from './entities/refresh-token.entity.js';
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

  findByHash(tokenHash: string): Promise<StoredRefreshToken | null> {
    return translateOutage(async () => {
      const [row] = await preparedQuery<RefreshTokenRow>(this.dataSource, { name: 'tessera_refresh_token_by_hash', text: FIND_BY_HASH, values: [tokenHash] });
      return row ? fromRow(row) : null;
    });
  }

  /** A prepared statement, see FIND_FOR_REFRESH: the refresh grant's first read. */
  override findForRefresh(tokenHash: string): Promise<RefreshTokenWithUser | null> {
    return translateOutage(async () => {
      const [row] = await preparedQuery<RefreshTokenRow & { user_active: boolean }>(this.dataSource, {
        name: 'tessera_refresh_token_for_refresh',
        text: FIND_FOR_REFRESH,
        values: [tokenHash],
      });
      return row ? { token: fromRow(row), userActive: row.user_active } : null;
    });
  }

  /** One statement (autocommit), see ROTATE. */
  rotate(tokenHash: string, at: Date, nextHash: string, next: RefreshToken): Promise<boolean> {
    return translateOutage(async () => {
      const rows = await preparedQuery(this.dataSource, {
        name: 'tessera_refresh_token_rotate',
        text: ROTATE,
        values: [tokenHash, at, nextHash, next.familyId, next.clientId, next.subject, next.scope, next.audience, next.grantId, next.issuedAt, next.familyIssuedAt, next.expiresAt],
      });
      return rows.length > 0;
    });
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
const FIND_FOR_REFRESH = `SELECT ${COLUMNS},
    EXISTS (
      SELECT 1 FROM users u
      WHERE u.id = CASE WHEN t.subject ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' THEN t.subject::uuid END
        AND u.disabled_at IS NULL
    ) AS user_active
  FROM refresh_tokens t WHERE t.token_hash = $1`;

/**
 * Rotation in one statement, so in one transaction: mark the token rotated (when it is neither rotated nor revoked)
 * and insert the next one only if it was. The row lock makes a concurrent rotation of the same token wait, then find
 * rotated_at set: it updates nothing, inserts nothing and returns no row, so of two exactly one succeeds.
 */
const ROTATE = `WITH rotated AS (
    UPDATE refresh_tokens SET rotated_at = $2 WHERE token_hash = $1 AND rotated_at IS NULL AND revoked_at IS NULL RETURNING token_hash
  )
  INSERT INTO refresh_tokens (token_hash, family_id, client_id, subject, scopes, audience, grant_id, issued_at, family_issued_at, expires_at)
  SELECT $3, $4, $5, $6, $7::text[], $8::text[], $9, $10, $11, $12 FROM rotated
  RETURNING token_hash`;

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
