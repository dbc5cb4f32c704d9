import { RevocationRepository, type AccessTokenClaims, type RevocationEntry } from '@tessera/oauth-core';
import type { DataSource, EntityManager } from 'typeorm';
import { CHANGE_CHANNEL, changePayload, notifyChange } from './change-notification.js';
import { isDatabaseOutage, translateOutage } from './database-outage.js';
import { ClientEntity } from './entities/client.entity.js';
import { RevocationEntity } from './entities/revocation.entity.js';
import { GroupCommit, type GroupCommitObserver } from './group-commit.js';
import { pgPool, preparedQuery } from './pg-pool.js';

/** Used when no longest token lifetime is configured: how long an issued-before mark must be kept. */
export const DEFAULT_MAX_TOKEN_TTL_SECONDS = 86_400;

export class TypeOrmRevocationRepository extends RevocationRepository {
  /** @param maxTokenTtlSeconds the longest lifetime of any access token, so an issued-before mark can be purged after it. */
  constructor(
    private readonly dataSource: DataSource,
    private readonly maxTokenTtlSeconds = DEFAULT_MAX_TOKEN_TTL_SECONDS,
    private readonly groupCommits?: GroupCommitObserver,
  ) {
    super();
  }

  revokeGrant(clientId: string, grantId: string, issuedBefore: Date): Promise<void> {
    return translateOutage(() =>
      this.dataSource.transaction((manager) => recordGrantRevocation(manager, { clientId, grantId, issuedBefore }, this.maxTokenTtlSeconds)),
    );
  }

  revokeSubject(subject: string, issuedBefore: Date): Promise<void> {
    return translateOutage(() =>
      this.dataSource.transaction((manager) => recordSubjectRevocation(manager, { subject, issuedBefore }, this.maxTokenTtlSeconds)),
    );
  }

  /**
   * Revocations by jti (JWTs) are committed in batches, as those of opaque tokens are: the calls that arrive while a
   * batch runs go together in the next one, one statement in its own transaction (see APPEND_TOKENS). Each call
   * answers once its batch has committed.
   */
  private readonly tokenRevocations = new GroupCommit<TokenRevocationRow>((batch) => this.appendTokens(batch), {
    maxRows: MAX_TOKEN_REVOCATIONS_PER_BATCH,
    // One batch at a time: each holds the log's lock until its commit anyway.
    maxInFlight: 1,
    observe: (rows) => this.groupCommits?.('token_revocation', rows),
  });

  revokeToken(jti: string, clientId: string, audience: string[], expiresAt: Date, at: Date): Promise<void> {
    return translateOutage(() => this.tokenRevocations.add({ jti, client_id: clientId, audience, expires_at: expiresAt, revoked_at: at }));
  }

  /**
   * One statement for the batch. When it fails for a reason other than an outage and it carried several entries,
   * each is tried alone, so only its own caller fails.
   */
  private async appendTokens(batch: TokenRevocationRow[]): Promise<void> {
    try {
      await preparedQuery(this.dataSource, {
        name: 'tessera_revocations_append_tokens',
        text: APPEND_TOKENS,
        values: [REVOCATION_LOG_LOCK, JSON.stringify(batch), CHANGE_CHANNEL, changePayload({ kind: 'revocation' })],
      });
    } catch (error) {
      if (batch.length === 1 || isDatabaseOutage(error)) throw error;
      const outcomes = await Promise.allSettled(batch.map((entry) => this.appendTokens([entry])));
      const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
      if (failed) throw failed.reason;
    }
  }

  /**
   * One statement on the pool (LIST_AFTER), its rows read as they come: each revocation batch's notification makes
   * every instance read the log's newest entries here, so it runs about as often as the log is appended to. Unnamed,
   * not prepared: PostgreSQL plans it for the actual cursor each time, where a generic plan would not know whether
   * the read is of the last few entries or a catch-up from far back.
   */
  listAfter(after: string, limit: number): Promise<RevocationEntry[]> {
    return translateOutage(async () => {
      const { rows } = await pgPool(this.dataSource).query<RevocationRow>(LIST_AFTER, [after, limit]);
      return rows.map(toEntry);
    });
  }

  /**
   * One prepared statement on the pool (the end of the primary key's index): what introspection's fence reads, once
   * for the concurrent introspections answered from the token cache (`RevocationLogFence`). Entries commit in seq
   * order, so every entry at or below the answer had committed when it was read.
   */
  latestSeq(): Promise<string> {
    return translateOutage(async () => {
      const [{ seq }] = await preparedQuery<{ seq: string }>(this.dataSource, { name: 'tessera_revocations_latest_seq', text: LATEST_SEQ, values: [] });
      return seq;
    });
  }

  purgeExpired(now: Date): Promise<number> {
    return translateOutage(async () => {
      const { affected } = await this.dataSource.manager
        .createQueryBuilder()
        .delete()
        .from(RevocationEntity)
        .where('expires_at <= :now', { now })
        .execute();
      return affected ?? 0;
    });
  }

  /** One prepared statement (IS_REVOKED): the token's jti, an issued-before mark for its client (and its subject or grant, when the mark names one), or its signing key. */
  isRevoked(claims: AccessTokenClaims): Promise<boolean> {
    return translateOutage(async () => {
      const [{ revoked }] = await preparedQuery<{ revoked: boolean }>(this.dataSource, {
        name: 'tessera_revocations_is_revoked',
        text: IS_REVOKED,
        // grant_id as text: a grant id that is no UUID matches no mark, rather than failing the query.
        values: [claims.jti, claims.clientId, new Date(claims.iat * 1000), claims.sub, claims.grantId ?? null, claims.kid ?? null],
      });
      return revoked;
    });
  }
}

/**
 * Three lookups, each on an index of its own (jti, and the partial indexes of marks and keys): one WHERE with ORs
 * over the three made PostgreSQL read the whole log for every check.
 */
const IS_REVOKED = `SELECT EXISTS (SELECT 1 FROM revocations WHERE jti = $1)
    OR EXISTS (SELECT 1 FROM revocations
               WHERE kind = 'issued-before' AND client_id = $2 AND issued_before > $3
                 AND (subject IS NULL OR subject = $4)
                 AND (grant_id IS NULL OR grant_id::text = $5))
    OR EXISTS (SELECT 1 FROM revocations WHERE kind = 'key' AND kid = $6) AS revoked`;

/**
 * The entries after a cursor, in seq order. The upper bound is always true (seq is a bigint) but is what keeps the
 * read on the primary key's index before PostgreSQL has statistics for the table (a fresh database, until autovacuum
 * first analyzes it): a lone `seq > $1` is then guessed to match a third of the log, and the planner scanned and
 * sorted the whole log at every read (0.6 ms at 12,000 entries, more than the appends it followed), where a range
 * with both bounds is guessed narrow. With statistics, the bound is seen to exclude nothing. Ordered by the column
 * (`r.seq`), not by the text it is returned as.
 */
export const LIST_AFTER = `SELECT seq::text AS seq, kind, jti, client_id, kid, subject, grant_id::text AS grant_id, audience,
    issued_before, expires_at, revoked_at
  FROM revocations r WHERE r.seq > $1::bigint AND r.seq <= 9223372036854775807 ORDER BY r.seq LIMIT $2`;

/** A row of LIST_AFTER. */
interface RevocationRow {
  seq: string;
  kind: 'token' | 'issued-before' | 'key';
  jti: string | null;
  client_id: string | null;
  kid: string | null;
  subject: string | null;
  grant_id: string | null;
  audience: string[] | null;
  issued_before: Date | null;
  expires_at: Date;
  revoked_at: Date;
}

/** The log's latest committed seq ('0' when empty: after a purge, the highest left). */
const LATEST_SEQ = `SELECT coalesce(max(seq), 0)::text AS seq FROM revocations`;

/** A 'token' entry as APPEND_TOKENS reads it from its JSON parameter. */
interface TokenRevocationRow {
  jti: string;
  client_id: string;
  audience: string[];
  expires_at: Date;
  revoked_at: Date;
}

/** Entries per statement at most. */
const MAX_TOKEN_REVOCATIONS_PER_BATCH = 500;

/**
 * A batch of 'token' entries in one statement, in its own transaction (autocommit): take the log's lock, append the
 * entries in the batch's order (a jti already recorded, or twice in the batch, is left out: the first one counts),
 * and queue one notification when any was appended. The lock CTE is volatile, so PostgreSQL runs it once and never
 * inlines it; the INSERT's one-time condition needs its row, so the lock is held before any seq is drawn, and it is
 * held until the commit, so entries still commit in seq order (see `appendToLog`).
 */
const APPEND_TOKENS = `WITH log_lock AS (SELECT pg_advisory_xact_lock($1::bigint) AS locked),
  wanted AS (
    SELECT DISTINCT ON (e.jti) e.jti, e.client_id, e.audience, e.expires_at, e.revoked_at, e.n
    FROM ROWS FROM (jsonb_to_recordset($2::jsonb) AS (jti text, client_id text, audience text[], expires_at timestamptz, revoked_at timestamptz))
      WITH ORDINALITY AS e(jti, client_id, audience, expires_at, revoked_at, n)
    ORDER BY e.jti, e.n
  ),
  entry AS (
    INSERT INTO revocations (kind, jti, client_id, audience, expires_at, revoked_at)
    SELECT 'token', jti, client_id, audience, expires_at, revoked_at FROM wanted WHERE EXISTS (SELECT 1 FROM log_lock) ORDER BY n
    ON CONFLICT DO NOTHING
    RETURNING jti
  ),
  notified AS (SELECT pg_notify($3, $4) FROM (SELECT 1 FROM entry LIMIT 1) any_appended)
  SELECT (SELECT count(*) FROM entry) AS appended, (SELECT count(*) FROM notified) AS notified`;

/**
 * Revocations are appended one transaction at a time (a transaction-scoped
 * advisory lock, taken before the seq is drawn and held until the commit), so
 * entries commit in `seq` order and a feed reader that has seen seq N has seen
 * every entry below it. The lock costs nothing on the token hot path; a batch of
 * token revocations holds it for one statement and its commit
 * (TypeOrmAccessTokenRepository.revoke, and revokeToken's APPEND_TOKENS).
 */
export const REVOCATION_LOG_LOCK = 0x7e55e7a;

async function appendToLog(manager: EntityManager, insert: () => Promise<unknown>): Promise<void> {
  if (!manager.queryRunner?.isTransactionActive) throw new Error('revocations are appended inside a transaction');
  await manager.query('SELECT pg_advisory_xact_lock($1)', [REVOCATION_LOG_LOCK]);
  await insert();
  await notifyChange(manager, { kind: 'revocation' });
}

function toEntry(r: RevocationRow): RevocationEntry {
  const common = { seq: r.seq, expiresAt: r.expires_at, revokedAt: r.revoked_at };
  if (r.kind === 'key') return { kind: 'key', kid: r.kid!, ...common };
  return r.kind === 'token'
    ? { kind: 'token', jti: r.jti!, clientId: r.client_id!, audience: r.audience, ...common }
    : { kind: 'issued-before', clientId: r.client_id!, subject: r.subject, grantId: r.grant_id, issuedBefore: r.issued_before!, ...common };
}

/** Appends a revocation of every token the signing key `kid` signed, in `manager`'s transaction. */
export async function recordKeyRevocation(manager: EntityManager, revocation: { kid: string; expiresAt: Date; revokedAt: Date }): Promise<void> {
  await appendToLog(manager, () => manager.insert(RevocationEntity, { kind: 'key', clientId: null, ...revocation }));
}

/** Appends an 'issued-before' revocation in `manager`'s transaction. */
export async function recordIssuedBefore(
  manager: EntityManager,
  mark: { clientId: string; subject?: string | null; grantId?: string | null; issuedBefore: Date; expiresAt: Date; revokedAt: Date },
): Promise<void> {
  await appendToLog(manager, () => manager.insert(RevocationEntity, { kind: 'issued-before', subject: null, grantId: null, audience: null, ...mark }));
}

/** Appends an issued-before mark for one grant of a client, in `manager`'s transaction. */
export async function recordGrantRevocation(
  manager: EntityManager,
  mark: { clientId: string; grantId: string; issuedBefore: Date },
  maxTokenTtlSeconds: number,
): Promise<void> {
  await recordIssuedBefore(manager, {
    ...mark,
    expiresAt: new Date(mark.issuedBefore.getTime() + maxTokenTtlSeconds * 1000),
    revokedAt: mark.issuedBefore,
  });
}

/**
 * Appends an issued-before mark for a subject at one client, or at every client
 * when `clientId` is absent or null, in `manager`'s transaction (a mark always
 * names its client, which is what the feed carries).
 */
export async function recordSubjectRevocation(
  manager: EntityManager,
  mark: { subject: string; clientId?: string | null; issuedBefore: Date },
  maxTokenTtlSeconds: number,
): Promise<void> {
  const clients = mark.clientId
    ? [{ clientId: mark.clientId }]
    : await manager.find(ClientEntity, { select: { clientId: true }, order: { clientId: 'ASC' } });
  const expiresAt = new Date(mark.issuedBefore.getTime() + maxTokenTtlSeconds * 1000);
  for (const { clientId } of clients) {
    await recordIssuedBefore(manager, { clientId, subject: mark.subject, issuedBefore: mark.issuedBefore, expiresAt, revokedAt: mark.issuedBefore });
  }
}
