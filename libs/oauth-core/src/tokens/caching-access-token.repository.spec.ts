import { jest } from '@jest/globals';
import { InMemoryAccessTokenRepository, InMemoryRevocationRepository, someClaims } from '@tessera/testing';
import type { AccessTokenClaims } from '../domain/token.js';
import { LocalChangeFeed } from '../ports/change-feed.port.js';
import { FixedClock } from '../ports/clock.port.js';
import { RevocationBroadcaster } from '../revocations/revocation-broadcaster.js';
import { RevocationLogFence } from '../revocations/revocation-log.fence.js';
import { CachingAccessTokenRepository, type AccessTokenCacheOptions } from './caching-access-token.repository.js';

/**
 * One instance's cache over a store it shares with "other instances": what they write goes to `store` and `log`
 * directly, and reaches this cache only when its broadcaster reads the log (`readLog`), as a notification or the
 * poll would make it.
 */
const stops: (() => void)[] = [];
afterEach(() => stops.splice(0).forEach((stop) => stop()));

async function anInstance(options?: AccessTokenCacheOptions) {
  const log = new InMemoryRevocationRepository();
  const store = new InMemoryAccessTokenRepository(log);
  const changes = new LocalChangeFeed();
  const clock = new FixedClock();
  const broadcaster = new RevocationBroadcaster(log, changes, {}, 3_600_000);
  await broadcaster.start();
  const latestSeqReads = jest.fn(() => log.latestSeq());
  const cache = new CachingAccessTokenRepository(store, log, broadcaster, new RevocationLogFence(latestSeqReads), changes, clock, options);
  const storeReads = jest.spyOn(store, 'findByHashWithLog');
  /** Reads the log as the broadcaster does on a notification; resolves once the entries reached the cache. */
  const readLog = () =>
    new Promise<void>((resolve) => {
      const stop = broadcaster.onRead(() => {
        stop();
        resolve();
      });
      broadcaster.pump();
    });
  /**
   * The next read of the store answers what it would say of `hash` now (its snapshot), but only once the returned
   * function is called: what happens meanwhile happens while that read runs.
   */
  const holdNextRead = async (hash: string) => {
    const snapshot = await store.findByHashWithLog(hash);
    let release!: () => void;
    storeReads.mockImplementationOnce(() => new Promise((resolve) => (release = () => resolve(snapshot))));
    return () => release();
  };
  stops.push(() => broadcaster.stop());
  return { log, store, changes, clock, cache, storeReads, latestSeqReads, readLog, holdNextRead };
}

/** Issued at another instance: in the store, not in this cache. */
async function storedElsewhere(store: InMemoryAccessTokenRepository, hash: string, claims: AccessTokenClaims) {
  await store.insert(hash, claims);
}

const active = (found: { revokedAt: Date | null; revokedByLog: boolean } | null) => found !== null && !found.revokedAt && !found.revokedByLog;

describe('CachingAccessTokenRepository', () => {
  it('answers a token issued here from memory: one read of the log\'s latest seq, no read of the token', async () => {
    const { cache, storeReads, latestSeqReads } = await anInstance();
    const claims = someClaims();
    await cache.insert('h1', claims);
    const found = await cache.findByHashWithLog('h1');
    expect(found).toEqual({ claims: { ...claims, grantId: null }, revokedAt: null, revokedByLog: false });
    expect(storeReads).not.toHaveBeenCalled();
    expect(latestSeqReads).toHaveBeenCalledTimes(1);
  });

  it('concurrent lookups of cached tokens share one read of the latest seq', async () => {
    const { cache, storeReads, latestSeqReads } = await anInstance();
    await cache.insert('h1', someClaims());
    await cache.insert('h2', someClaims());
    const found = await Promise.all([cache.findByHashWithLog('h1'), cache.findByHashWithLog('h2'), cache.findByHashWithLog('h1')]);
    expect(found.every(active)).toBe(true);
    expect(latestSeqReads).toHaveBeenCalledTimes(1);
    expect(storeReads).not.toHaveBeenCalled();
  });

  it('reads a token issued elsewhere from the database once, then answers it from memory', async () => {
    const { cache, store, storeReads } = await anInstance();
    await storedElsewhere(store, 'h1', someClaims());
    expect(active(await cache.findByHashWithLog('h1'))).toBe(true);
    expect(active(await cache.findByHashWithLog('h1'))).toBe(true);
    expect(storeReads).toHaveBeenCalledTimes(1);
    expect(cache.size).toBe(1);
  });

  it('an unknown token is not cached', async () => {
    const { cache, storeReads } = await anInstance();
    expect(await cache.findByHashWithLog('nope')).toBeNull();
    expect(await cache.findByHashWithLog('nope')).toBeNull();
    expect(storeReads).toHaveBeenCalledTimes(2);
    expect(cache.size).toBe(0);
  });

  it('a revocation committed elsewhere and not yet read here sends the token to the database, which says it is revoked', async () => {
    const { cache, store, storeReads } = await anInstance();
    await cache.insert('h1', someClaims());
    await store.revoke('h1', new Date()); // another instance: the row and the log, not this cache
    const found = await cache.findByHashWithLog('h1');
    expect(found?.revokedAt).not.toBeNull();
    expect(storeReads).toHaveBeenCalledTimes(1);
  });

  it('an issued-before mark committed elsewhere and not yet read here: the database answers, revoked by the log', async () => {
    const { cache, log, storeReads } = await anInstance();
    const claims = someClaims();
    await cache.insert('h1', claims);
    log.markIssuedBefore({ clientId: claims.clientId, issuedBefore: new Date((claims.iat + 1) * 1000) });
    expect(await cache.findByHashWithLog('h1')).toMatchObject({ revokedByLog: true });
    expect(storeReads).toHaveBeenCalledTimes(1);
  });

  describe('log entries read here drop the tokens they cover', () => {
    it('by jti', async () => {
      const { cache, store, readLog } = await anInstance();
      await cache.insert('h1', someClaims());
      await cache.insert('h2', someClaims());
      await store.revoke('h1', new Date());
      await readLog();
      expect(cache.size).toBe(1);
      expect((await cache.findByHashWithLog('h1'))?.revokedAt).not.toBeNull();
      expect(active(await cache.findByHashWithLog('h2'))).toBe(true);
    });

    it('by an issued-before mark for their client, narrowed to a subject or a grant', async () => {
      const { cache, log, readLog } = await anInstance();
      const iat = someClaims().iat;
      const after = new Date((iat + 1) * 1000);
      const tokens = {
        alice: someClaims({ clientId: 'c1', sub: 'alice', grantId: 'g1' }),
        bob: someClaims({ clientId: 'c1', sub: 'bob', grantId: 'g2' }),
        carol: someClaims({ clientId: 'c1', sub: 'carol', grantId: 'g3' }),
        other: someClaims({ clientId: 'c2', sub: 'alice', grantId: 'g4' }),
        later: someClaims({ clientId: 'c1', sub: 'bob', grantId: 'g2', iat: iat + 1 }),
      };
      for (const [name, claims] of Object.entries(tokens)) await cache.insert(name, claims);
      log.markIssuedBefore({ clientId: 'c1', subject: 'alice', issuedBefore: after });
      log.markIssuedBefore({ clientId: 'c1', grantId: 'g2', issuedBefore: after });
      await readLog();
      expect(cache.size).toBe(3); // carol, other (another client) and later (issued at the mark)
      log.markIssuedBefore({ clientId: 'c1', issuedBefore: after });
      await readLog();
      expect(cache.size).toBe(2);
      const still = await Promise.all(['other', 'later'].map((h) => cache.findByHashWithLog(h)));
      expect(still.every(active)).toBe(true);
    });
  });

  it('drops an expired token instead of answering it', async () => {
    const { cache, clock, storeReads } = await anInstance();
    const claims = someClaims();
    await cache.insert('h1', claims);
    clock.set(new Date(claims.exp * 1000));
    await cache.findByHashWithLog('h1');
    expect(storeReads).toHaveBeenCalledTimes(1);
    expect(cache.size).toBe(0);
  });

  it('answers from memory once the log reads past a purge that lowered its latest seq', async () => {
    const { cache, store, log, clock, readLog, storeReads, latestSeqReads } = await anInstance();
    const short = someClaims({ exp: someClaims().iat + 10 });
    await store.insert('short', short);
    await cache.insert('h1', someClaims());
    await store.revoke('short', clock.now());
    await readLog();
    clock.advance(10);
    expect(await log.purgeExpired(clock.now())).toBe(1);
    latestSeqReads.mockResolvedValueOnce('0'); // PostgreSQL's max(seq) over the entries left: none
    expect(active(await cache.findByHashWithLog('h1'))).toBe(true);
    expect(storeReads).not.toHaveBeenCalled();
  });

  it('does not keep what a read found active when an entry covering it was applied while the read ran', async () => {
    const { cache, store, readLog, holdNextRead } = await anInstance();
    const claims = someClaims();
    await storedElsewhere(store, 'h1', claims);
    // The read is answered as of before the revocation (its snapshot), and returns after the entry was applied.
    const release = await holdNextRead('h1');
    const lookup = cache.findByHashWithLog('h1');
    await store.revoke('h1', new Date());
    await readLog();
    release();
    expect(active(await lookup)).toBe(true); // what the database said when asked
    expect(cache.size).toBe(0);
    expect((await cache.findByHashWithLog('h1'))?.revokedAt).not.toBeNull();
  });

  it('does not keep a token issued here when a mark covering it was applied while it was written', async () => {
    const { cache, store, log, readLog } = await anInstance();
    const claims = someClaims();
    const insert = jest.spyOn(store, 'insert');
    let release!: () => void;
    insert.mockImplementationOnce(async (hash, c) => {
      await new Promise<void>((resolve) => (release = resolve));
      await InMemoryAccessTokenRepository.prototype.insert.call(store, hash, c);
    });
    const issuing = cache.insert('h1', claims);
    log.markIssuedBefore({ clientId: claims.clientId, issuedBefore: new Date((claims.iat + 1) * 1000) });
    await readLog();
    release();
    await issuing;
    expect(cache.size).toBe(0);
  });

  it("keeps what a read found when the entries applied meanwhile cover other tokens", async () => {
    const { cache, store, readLog, holdNextRead } = await anInstance();
    await storedElsewhere(store, 'h1', someClaims());
    await storedElsewhere(store, 'h2', someClaims());
    const release = await holdNextRead('h1');
    const lookup = cache.findByHashWithLog('h1');
    await store.revoke('h2', new Date());
    await readLog();
    release();
    await lookup;
    expect(cache.size).toBe(1);
  });

  it("empties itself when the change feed says 'all', and on clear(); a read started before is not kept", async () => {
    const { cache, store, changes, holdNextRead } = await anInstance();
    await cache.insert('h1', someClaims());
    changes.publish({ kind: 'all' });
    expect(cache.size).toBe(0);
    await cache.insert('h2', someClaims());
    cache.clear();
    expect(cache.size).toBe(0);

    await storedElsewhere(store, 'h3', someClaims());
    const release = await holdNextRead('h3');
    const lookup = cache.findByHashWithLog('h3');
    cache.clear();
    release();
    await lookup;
    expect(cache.size).toBe(0);
  });

  it('holds at most maxEntries tokens, dropping the least recently used', async () => {
    const { cache, storeReads } = await anInstance({ maxEntries: 2 });
    await cache.insert('a', someClaims());
    await cache.insert('b', someClaims());
    await cache.findByHashWithLog('a');
    await cache.insert('c', someClaims());
    expect(cache.size).toBe(2);
    for (const hash of ['a', 'c']) await cache.findByHashWithLog(hash);
    expect(storeReads).not.toHaveBeenCalled();
    await cache.findByHashWithLog('b');
    expect(storeReads).toHaveBeenCalledTimes(1);
  });

  it('revokes in the store (row and log) and drops the token here', async () => {
    const { cache, store, log } = await anInstance();
    const claims = someClaims();
    await cache.insert('h1', claims);
    expect(await cache.revoke('h1', new Date())).toBe(true);
    expect(cache.size).toBe(0);
    expect(store.tokens.get('h1')?.revokedAt).not.toBeNull();
    expect(await log.isRevoked(claims)).toBe(true);
    expect(await cache.revoke('h1', new Date())).toBe(false);
  });

  it('hands out claims no caller can change', async () => {
    const { cache } = await anInstance();
    await cache.insert('h1', someClaims({ scope: ['read'] }));
    const found = await cache.findByHashWithLog('h1');
    expect(() => found!.claims.scope.push('admin')).toThrow();
    expect((await cache.findByHashWithLog('h1'))?.claims.scope).toEqual(['read']);
  });
});
