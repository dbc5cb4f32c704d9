import { RevocationRepository, type AccessTokenClaims, type RevocationEntry } from '@tessera/oauth-core';
import type { DataSource, EntityManager } from 'typeorm';
import { notifyChange } from './change-notification.js';
import { translateOutage } from './database-outage.js';
import { ClientEntity } from './entities/client.entity.js';
import { RevocationEntity } from './entities/revocation.entity.js';

/** Used when no longest token lifetime is configured: how long an issued-before mark must be kept. */
export const DEFAULT_MAX_TOKEN_TTL_SECONDS = 86_400;

export class TypeOrmRevocationRepository extends RevocationRepository {
  /** @param maxTokenTtlSeconds the longest lifetime of any access token, so an issued-before mark can be purged after it. */
  constructor(
    private readonly dataSource: DataSource,
    private readonly maxTokenTtlSeconds = DEFAULT_MAX_TOKEN_TTL_SECONDS,
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

  revokeToken(jti: string, clientId: string, audience: string[], expiresAt: Date, at: Date): Promise<void> {
    return translateOutage(() =>
      this.dataSource.transaction((manager) => recordTokenRevocation(manager, { jti, clientId, audience, expiresAt, revokedAt: at })),
    );
  }

  listAfter(after: string, limit: number): Promise<RevocationEntry[]> {
    return translateOutage(async () => {
      const rows = await this.dataSource.manager
        .createQueryBuilder(RevocationEntity, 'r')
        .where('r.seq > :after', { after })
        .orderBy('r.seq', 'ASC')
        .limit(limit)
        .getMany();
      return rows.map(toEntry);
    });
  }

  latestSeq(): Promise<string> {
    return translateOutage(async () => {
      const [{ seq }] = await this.dataSource.query<{ seq: string }[]>(`SELECT coalesce(max(seq), 0)::text AS seq FROM revocations`);
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

  /** One query: the token's jti, an issued-before mark for its client (and its subject or grant, when the mark names one), or its signing key. */
  isRevoked(claims: AccessTokenClaims): Promise<boolean> {
    return translateOutage(async () => {
      const [{ revoked }] = await this.dataSource.query<{ revoked: boolean }[]>(
        // Three lookups, each on an index of its own (jti, and the partial indexes of marks and keys): one WHERE with ORs
        // over the three made PostgreSQL read the whole log for every check.
        `SELECT EXISTS (SELECT 1 FROM revocations WHERE jti = $1)
             OR EXISTS (SELECT 1 FROM revocations
                        WHERE kind = 'issued-before' AND client_id = $2 AND issued_before > $3
                          AND (subject IS NULL OR subject = $4)
                          AND (grant_id IS NULL OR grant_id::text = $5))
             OR EXISTS (SELECT 1 FROM revocations WHERE kind = 'key' AND kid = $6) AS revoked`,
        // grant_id as text: a grant id that is no UUID matches no mark, rather than failing the query.
        [claims.jti, claims.clientId, new Date(claims.iat * 1000), claims.sub, claims.grantId ?? null, claims.kid ?? null],
      );
      return revoked;
    });
  }
}

/**
 * Revocations are appended one transaction at a time (a transaction-scoped
 * advisory lock, taken before the seq is drawn and held until the commit), so
 * entries commit in `seq` order and a feed reader that has seen seq N has seen
 * every entry below it. The lock costs nothing on the token hot path; an opaque
 * token's revocation holds it for one statement and its commit
 * (TypeOrmAccessTokenRepository.revoke).
 */
export const REVOCATION_LOG_LOCK = 0x7e55e7a;

async function appendToLog(manager: EntityManager, insert: () => Promise<unknown>): Promise<void> {
  if (!manager.queryRunner?.isTransactionActive) throw new Error('revocations are appended inside a transaction');
  await manager.query('SELECT pg_advisory_xact_lock($1)', [REVOCATION_LOG_LOCK]);
  await insert();
  await notifyChange(manager, { kind: 'revocation' });
}

function toEntry(r: RevocationEntity): RevocationEntry {
  const common = { seq: r.seq, expiresAt: r.expiresAt, revokedAt: r.revokedAt };
  if (r.kind === 'key') return { kind: 'key', kid: r.kid!, ...common };
  return r.kind === 'token'
    ? { kind: 'token', jti: r.jti!, clientId: r.clientId!, audience: r.audience, ...common }
    : { kind: 'issued-before', clientId: r.clientId!, subject: r.subject, grantId: r.grantId, issuedBefore: r.issuedBefore!, ...common };
}

/** Appends a revocation of every token the signing key `kid` signed, in `manager`'s transaction. */
export async function recordKeyRevocation(manager: EntityManager, revocation: { kid: string; expiresAt: Date; revokedAt: Date }): Promise<void> {
  await appendToLog(manager, () => manager.insert(RevocationEntity, { kind: 'key', clientId: null, ...revocation }));
}

/** Appends a 'token' revocation in `manager`'s transaction; a jti already recorded is left as it is. */
export async function recordTokenRevocation(
  manager: EntityManager,
  revocation: { jti: string; clientId: string; audience: string[]; expiresAt: Date; revokedAt: Date },
): Promise<void> {
  await appendToLog(manager, () => manager
    .createQueryBuilder()
    .insert()
    .into(RevocationEntity)
    .values({ kind: 'token', ...revocation })
    .orIgnore() // ON CONFLICT DO NOTHING, on the unique index over jti
    .updateEntity(false)
    .execute(),
  );
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
