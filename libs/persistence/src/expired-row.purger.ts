import pg from 'pg';
import type { DataSource } from 'typeorm';
import { CONNECT_TIMEOUT_MS } from './data-source.js';
import { pgPool } from './pg-pool.js';

/**
 * Before which instant each kind of row can no longer matter, so it may go. The caller (the auth server's
 * Purger) works them out from the clock and the lifetimes it knows.
 */
export interface PurgeCutoffs {
  /** Opaque access tokens that expired before this (introspection would say inactive either way). */
  accessTokens: Date;
  /**
   * Refresh tokens whose whole family expired before this: a rotated token used again must still revoke its
   * family while the family (and the access tokens it issued) can live, so a family goes all at once.
   */
  refreshTokenFamilies: Date;
  /** Authorization codes never redeemed that expired before this. */
  unredeemedCodes: Date;
  /** Redeemed codes that expired before this: a reused code revokes its grant for as long as the grant's tokens may live. */
  redeemedCodes: Date;
  /** Sign-in sessions that expired before this. */
  sessions: Date;
  /** Failed sign-ins before this (out of the throttling window). */
  signInFailures: Date;
  /** Revocation entries whose `expires_at` (the last instant a token they match can be valid) is before this. */
  revocations: Date;
}

export type PurgeTarget = keyof PurgeCutoffs;

export interface PurgeOptions {
  /** Rows per DELETE: each is a short transaction of its own, holding row locks on that many rows at most. */
  batchSize?: number;
  /** Pause between two batches, so requests always get the database between them. */
  pauseMs?: number;
  /** Asked between batches: true ends the purge early (the process is stopping). */
  stopping?: () => boolean;
}

/**
 * One bounded DELETE per target: the primary keys of at most `$2` rows past the cutoff `$1`, picked through
 * the index on the expiry where there is one, then deleted by key. No statement touches more than a batch.
 */
const BATCHES: Record<PurgeTarget, string> = {
  accessTokens: `DELETE FROM access_tokens WHERE token_hash IN (
      SELECT token_hash FROM access_tokens WHERE expires_at < $1 LIMIT $2)`,
  refreshTokenFamilies: `DELETE FROM refresh_tokens WHERE token_hash IN (
      SELECT r.token_hash FROM refresh_tokens r
      WHERE r.expires_at < $1
        AND NOT EXISTS (SELECT 1 FROM refresh_tokens live WHERE live.family_id = r.family_id AND live.expires_at >= $1)
      LIMIT $2)`,
  unredeemedCodes: `DELETE FROM authorization_codes WHERE code_hash IN (
      SELECT code_hash FROM authorization_codes WHERE expires_at < $1 AND redeemed_at IS NULL LIMIT $2)`,
  redeemedCodes: `DELETE FROM authorization_codes WHERE code_hash IN (
      SELECT code_hash FROM authorization_codes WHERE expires_at < $1 AND redeemed_at IS NOT NULL LIMIT $2)`,
  sessions: `DELETE FROM sessions WHERE id IN (SELECT id FROM sessions WHERE expires_at < $1 LIMIT $2)`,
  signInFailures: `DELETE FROM sign_in_failures WHERE id IN (SELECT id FROM sign_in_failures WHERE failed_at < $1 LIMIT $2)`,
  // Deleting entries takes no lock of the log's: appends (which hold it) are never waited for. Readers skip what is
  // gone; the feed moves a reader's cursor past entries purged at the end of the log (followRevocations).
  revocations: `DELETE FROM revocations WHERE seq IN (SELECT seq FROM revocations WHERE expires_at < $1 LIMIT $2)`,
};

/** The session-level advisory lock one purging process holds, so the others skip rather than purge alongside. */
export const PURGE_LOCK = 0x7e55e7c;

/**
 * Deletes expired rows in small batches, one process at a time. The lock is held on a connection of its own
 * (not one of the pool's, which stay free for requests); the DELETEs run on the pool, each in its own short
 * transaction, with a pause between batches. No table lock, no long transaction: requests only ever wait for
 * the row locks of one batch.
 */
export class ExpiredRowPurger {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * Purges everything past `cutoffs`, batch by batch, target by target; the rows deleted per target. Null when
   * another process holds the lock (it is purging), and nothing was done. A database failure propagates.
   */
  async purge(cutoffs: PurgeCutoffs, options: PurgeOptions = {}): Promise<Record<PurgeTarget, number> | null> {
    const { batchSize = 500, pauseMs = 10, stopping = () => false } = options;
    const lock = new pg.Client({ connectionString: (this.dataSource.options as { url?: string }).url, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
    let lockLost = false;
    lock.on('error', () => (lockLost = true));
    lock.on('end', () => (lockLost = true));
    await lock.connect();
    try {
      const [{ locked }] = (await lock.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1) AS locked', [PURGE_LOCK])).rows;
      if (!locked) return null;
      const purged = Object.fromEntries(Object.keys(BATCHES).map((t) => [t, 0])) as Record<PurgeTarget, number>;
      for (const target of Object.keys(BATCHES) as PurgeTarget[]) {
        for (;;) {
          // Without the lock (its connection broke), another process may have started: leave it to that one.
          if (stopping() || lockLost) return purged;
          const affected = (await pgPool(this.dataSource).query(BATCHES[target], [cutoffs[target], batchSize])).rowCount ?? 0;
          purged[target] += affected;
          if (affected < batchSize) break;
          await new Promise((resolve) => setTimeout(resolve, pauseMs));
        }
      }
      return purged;
    } finally {
      // Ending the session releases its advisory lock.
      await lock.end().catch(() => undefined);
    }
  }
}
