import type { AccessTokenClaims } from '../domain/token.js';
import { AccessTokenRepository, type StoredAccessToken } from '../ports/access-token.repository.js';
import { ChangeFeed } from '../ports/change-feed.port.js';
import type { Clock } from '../ports/clock.port.js';
import { RevocationRepository, revocationMatches, type RevocationEntry } from '../ports/revocation.repository.js';

/** What the cache follows: the revocation log as this process reads it (`RevocationBroadcaster`). */
export interface RevocationLogReader {
  /** The last seq read: every entry up to it has been delivered to the subscribers (or was there before they were). */
  lastRead(): string;
  /** Every entry read after the call, in seq order, synchronously as each page is read. */
  subscribe(listener: (entries: RevocationEntry[]) => void): () => void;
}

/** A read of the log's latest committed seq that starts after the call (`RevocationLogFence`). */
export interface LatestSeqReader {
  latest(): Promise<string>;
}

export interface AccessTokenCacheOptions {
  /** Tokens kept at most (the least recently used goes first). */
  maxEntries: number;
}

/**
 * A token costs about 1.1 KiB here (its claims' strings, arrays and object, its hash, both maps; measured with a
 * one-audience, one-scope token), so the default bound keeps the cache near 11 MiB.
 */
export const DEFAULT_ACCESS_TOKEN_CACHE: AccessTokenCacheOptions = { maxEntries: 10_000 };
/** Log entries kept after they were applied, for the fills whose read ran while they arrived. */
const RECENT_ENTRIES = 1024;

/** When a fill's read started: what the cache had applied then. */
interface Mark {
  seq: bigint;
  epoch: number;
}

/**
 * Opaque access tokens' claims in memory, by token hash, so that introspecting an active token reads neither the
 * token nor the revocation log: the one-step check (`findByHashWithLog`) answers a cached token from memory once a
 * read of the log's latest seq, started after the call and shared by the concurrent calls (`LatestSeqReader`),
 * shows that every revocation committed before the call (on any instance) has been applied here. Otherwise, and
 * for a token not cached, it reads the database as before, and caches what it found active.
 *
 * Kept exact by the revocation log, as this process reads it (`RevocationLogReader`): an entry drops the tokens it
 * covers (its jti, or an issued-before mark for their client, narrowed to a subject or grant); a change feed that
 * says 'all' (notifications may have been lost) empties the cache, and so does `clear()` (the log cannot be read).
 * A token is filled at issuance (once committed) and after a database read, unless an entry applied since that
 * write or read started covers it. Expiry is checked on the clock at every hit. Whatever the log does not carry
 * (the row's own revoked_at is set only along with a jti entry) is in the database, which misses and fallbacks read.
 *
 * Everything else (`findByHash`, `revoke`) goes to the database as before; `revoke` also drops the token here.
 */
export class CachingAccessTokenRepository extends AccessTokenRepository {
  /** Claims by token hash, least recently used first. */
  private readonly entries = new Map<string, AccessTokenClaims>();
  /** Token hash by jti, for the log's token entries. */
  private readonly byJti = new Map<string, string>();
  /** The seq of the last log entry applied (or what the log reader had read when the cache started). */
  private applied: bigint;
  /** Entries applied lately, in seq order; every applied entry after `recentFrom` is among them. */
  private recent: RevocationEntry[] = [];
  private recentFrom: bigint;
  /** Bumped each time the cache is emptied: a fill whose read started before is dropped. */
  private epoch = 0;
  private readonly unsubscribe: () => void;

  constructor(
    private readonly inner: AccessTokenRepository,
    private readonly revocations: RevocationRepository,
    log: RevocationLogReader,
    private readonly fence: LatestSeqReader,
    changes: ChangeFeed,
    private readonly clock: Clock,
    private readonly options: AccessTokenCacheOptions = DEFAULT_ACCESS_TOKEN_CACHE,
  ) {
    super();
    this.applied = BigInt(log.lastRead());
    this.recentFrom = this.applied;
    const stopLog = log.subscribe((entries) => this.apply(entries));
    const stopChanges = changes.subscribe((event) => {
      if (event.kind === 'all') this.clear();
    });
    this.unsubscribe = () => {
      stopLog();
      stopChanges();
    };
  }

  /** Tokens cached now. */
  get size(): number {
    return this.entries.size;
  }

  /** Empties the cache (the log cannot be read, or notifications were lost). */
  clear(): void {
    this.entries.clear();
    this.byJti.clear();
    this.epoch++;
  }

  close(): void {
    this.unsubscribe();
    this.clear();
  }

  /** Writes the token, then caches it, unless a revocation applied meanwhile covers it. */
  async insert(tokenHash: string, claims: AccessTokenClaims): Promise<void> {
    const mark = this.mark();
    await this.inner.insert(tokenHash, claims);
    this.fill(tokenHash, claims, mark);
  }

  findByHash(tokenHash: string): Promise<StoredAccessToken | null> {
    return this.inner.findByHash(tokenHash);
  }

  async revoke(tokenHash: string, at: Date): Promise<boolean> {
    this.drop(tokenHash);
    try {
      return await this.inner.revoke(tokenHash, at);
    } finally {
      this.drop(tokenHash);
    }
  }

  /**
   * A cached, unexpired token once the fence shows every entry committed before this call applied here; else
   * (not cached, or entries not yet applied) the database's answer, cached when active.
   */
  override async findByHashWithLog(tokenHash: string): Promise<(StoredAccessToken & { revokedByLog: boolean }) | null> {
    const claims = this.entries.get(tokenHash);
    if (claims) {
      if (claims.exp <= this.clock.nowSeconds()) this.drop(tokenHash);
      else {
        const latest = BigInt(await this.fence.latest());
        // Still cached (no entry dropped it while the fence was read) and nothing committed that is not applied.
        if (latest <= this.applied && this.entries.get(tokenHash) === claims) {
          this.entries.delete(tokenHash);
          this.entries.set(tokenHash, claims);
          return { claims, revokedAt: null, revokedByLog: false };
        }
      }
    }
    const mark = this.mark();
    const stored = await this.readWithLog(tokenHash);
    if (stored && !stored.revokedAt && !stored.revokedByLog) this.fill(tokenHash, stored.claims, mark);
    return stored;
  }

  private async readWithLog(tokenHash: string): Promise<(StoredAccessToken & { revokedByLog: boolean }) | null> {
    if (this.inner.findByHashWithLog) return this.inner.findByHashWithLog(tokenHash);
    const stored = await this.inner.findByHash(tokenHash);
    return stored && { ...stored, revokedByLog: await this.revocations.isRevoked(stored.claims) };
  }

  private mark(): Mark {
    return { seq: this.applied, epoch: this.epoch };
  }

  /**
   * Caches `claims`, read or written after `mark`, unless the cache was emptied since, or an entry applied since
   * covers them (the read may have started before that entry committed), or those entries are no longer known.
   */
  private fill(tokenHash: string, claims: AccessTokenClaims, mark: Mark): void {
    if (mark.epoch !== this.epoch || claims.exp <= this.clock.nowSeconds()) return;
    if (mark.seq !== this.applied) {
      if (mark.seq < this.recentFrom) return;
      for (const entry of this.recent) if (BigInt(entry.seq) > mark.seq && revocationMatches(entry, claims)) return;
    }
    this.drop(tokenHash);
    if (this.entries.size >= this.options.maxEntries) this.drop(this.entries.keys().next().value!);
    const kept = frozenClaims(claims);
    this.entries.set(tokenHash, kept);
    this.byJti.set(kept.jti, tokenHash);
  }

  private drop(tokenHash: string): void {
    const claims = this.entries.get(tokenHash);
    if (!claims) return;
    this.entries.delete(tokenHash);
    if (this.byJti.get(claims.jti) === tokenHash) this.byJti.delete(claims.jti);
  }

  /** New log entries: the tokens they cover leave the cache. */
  private apply(entries: RevocationEntry[]): void {
    if (entries.length === 0) return;
    for (const entry of entries) {
      if (entry.kind === 'token') {
        const tokenHash = this.byJti.get(entry.jti);
        if (tokenHash) this.drop(tokenHash);
      } else {
        for (const [tokenHash, claims] of this.entries) if (revocationMatches(entry, claims)) this.drop(tokenHash);
      }
    }
    this.recent.push(...entries);
    if (this.recent.length > RECENT_ENTRIES) {
      const gone = this.recent.splice(0, this.recent.length - RECENT_ENTRIES);
      this.recentFrom = BigInt(gone[gone.length - 1].seq);
    }
    this.applied = BigInt(entries[entries.length - 1].seq);
  }
}

/**
 * A frozen copy of an opaque token's claims, as handed out to every caller. Built property by property: a frozen
 * spread copy takes about a third more memory.
 */
function frozenClaims(c: AccessTokenClaims): AccessTokenClaims {
  return Object.freeze({
    jti: c.jti,
    iss: c.iss,
    sub: c.sub,
    clientId: c.clientId,
    aud: Object.freeze(c.aud.slice()) as string[],
    scope: Object.freeze(c.scope.slice()) as string[],
    iat: c.iat,
    exp: c.exp,
    grantId: c.grantId ?? null,
    format: 'opaque',
  });
}
