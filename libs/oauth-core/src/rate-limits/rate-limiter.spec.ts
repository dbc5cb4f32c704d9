import { InMemoryRateLimitRepository } from '@tessera/testing';
import { OAuthError } from '../errors/oauth-error.js';
import { FixedClock } from '../ports/clock.port.js';
import { RateLimitRepository } from '../ports/rate-limit.repository.js';
import { addressKey, RateLimiter, RequestRateLimits } from './rate-limiter.js';

/** A stopped clock `seconds` into a 60-second window. */
const clockAt = (seconds: number) => new FixedClock(new Date(Date.parse('2027-01-01T00:00:00Z') + seconds * 1000));

const options = { windowSeconds: 60, flushIntervalMs: 60_000 };

describe('RateLimiter', () => {
  it('allows `limit` hits per key and window, then says how long until the window ends', () => {
    const limiter = new RateLimiter(new InMemoryRateLimitRepository(), clockAt(15.5), options);
    for (let i = 0; i < 3; i++) expect(limiter.hit('a', 3)).toEqual({ allowed: true });
    expect(limiter.hit('a', 3)).toEqual({ allowed: false, retryAfterSeconds: 45 });
    expect(limiter.hit('b', 3)).toEqual({ allowed: true });
  });

  it('starts again in the next window, and purges the old windows', async () => {
    const store = new InMemoryRateLimitRepository();
    const clock = clockAt(59);
    const limiter = new RateLimiter(store, clock, options);
    limiter.hit('a', 1);
    expect(limiter.hit('a', 1)).toEqual({ allowed: false, retryAfterSeconds: 1 });
    await limiter.flush();
    expect(store.counts.size).toBe(1);
    clock.advance(1);
    expect(limiter.hit('a', 1)).toEqual({ allowed: true });
    await limiter.flush();
    expect([...store.counts.values()]).toEqual([{ windowStart: clock.now().getTime(), hits: 1 }]);
  });

  it('shares one budget between instances, from the counts of their last flush', async () => {
    const store = new InMemoryRateLimitRepository();
    const clock = clockAt(10);
    const one = new RateLimiter(store, clock, options);
    const two = new RateLimiter(store, clock, options);
    for (let i = 0; i < 3; i++) expect(one.hit('a', 5)).toEqual({ allowed: true });
    await one.flush();
    expect(two.hit('a', 5)).toEqual({ allowed: true }); // two knows nothing of one's hits until it flushes
    await two.flush(); // and now knows 4
    expect(two.hit('a', 5)).toEqual({ allowed: true });
    expect(two.hit('a', 5).allowed).toBe(false);
    await two.flush();
    await one.flush(); // nothing pending here: one's view stays as it was
    expect(one.hit('a', 5)).toEqual({ allowed: true }); // one admits one more (the bounded overshoot) …
    await one.flush();
    expect(one.hit('a', 5).allowed).toBe(false); // … and then sees the budget spent
  });

  it('counts the hits of a flush under way', async () => {
    let release: (() => void) | undefined;
    const store = new (class extends InMemoryRateLimitRepository {
      override async add(windowStart: Date, hits: ReadonlyMap<string, number>) {
        await new Promise<void>((r) => (release = r));
        return super.add(windowStart, hits);
      }
    })();
    const limiter = new RateLimiter(store, clockAt(10), options);
    limiter.hit('a', 2);
    const flushed = limiter.flush();
    while (!release) await new Promise((r) => setImmediate(r)); // the flush has taken the pending hit
    expect(limiter.hit('a', 2)).toEqual({ allowed: true });
    expect(limiter.hit('a', 2).allowed).toBe(false);
    release();
    await flushed;
    expect(limiter.hit('a', 2).allowed).toBe(false);
  });

  it('keeps limiting from its own counts while the store fails, and sends them once it works again', async () => {
    const logged: [string, unknown][] = [];
    let down = true;
    const counts = new InMemoryRateLimitRepository();
    const store = new (class extends RateLimitRepository {
      add(windowStart: Date, hits: ReadonlyMap<string, number>) {
        return down ? Promise.reject(new Error('connection refused')) : counts.add(windowStart, hits);
      }
      purgeBefore(before: Date) {
        return down ? Promise.reject(new Error('connection refused')) : counts.purgeBefore(before);
      }
    })();
    const limiter = new RateLimiter(store, clockAt(10), { ...options, logger: (message, error) => logged.push([message, error]) });
    expect(limiter.hit('a', 2)).toEqual({ allowed: true });
    await expect(limiter.flush()).resolves.toBeUndefined();
    await limiter.flush();
    expect(limiter.hit('a', 2)).toEqual({ allowed: true });
    expect(limiter.hit('a', 2).allowed).toBe(false);
    expect(logged.map(([m]) => m)).toEqual(['rate-limit counts could not be shared; limiting from this instance’s counts meanwhile']);
    down = false;
    await limiter.flush();
    expect([...counts.counts.values()].map((c) => c.hits)).toEqual([2]);
    expect(logged.map(([m]) => m)).toEqual([
      'rate-limit counts could not be shared; limiting from this instance’s counts meanwhile',
      'rate-limit counts are shared again: recovered after 0 s and 2 failure(s)',
    ]);
  });
  describe('under address spraying (a key per request)', () => {
    const spray = (limiter: RateLimiter, n: number, from = 0) => {
      for (let i = from; i < from + n; i++) expect(limiter.hit(`token:address:2001:db8:${i.toString(16)}::/64`, 10).allowed).toBe(true);
    };

    it('holds at most maxKeys keys while the store fails, and still refuses the caller that kept hitting', async () => {
      const store = new (class extends RateLimitRepository {
        add() {
          return Promise.reject(new Error('connection refused'));
        }
        purgeBefore() {
          return Promise.reject(new Error('connection refused'));
        }
      })();
      const limiter = new RateLimiter(store, clockAt(10), { ...options, maxKeys: 100 });
      for (let i = 0; i < 3; i++) expect(limiter.hit('flood', 3)).toEqual({ allowed: true });
      for (let round = 0; round < 10; round++) {
        spray(limiter, 1000, round * 1000);
        await limiter.flush();
        expect(limiter.trackedKeys).toBeLessThanOrEqual(100);
      }
      expect(limiter.hit('flood', 3).allowed).toBe(false);
    });

    it('holds at most maxKeys keys of the shared counts, and learns a forgotten key again from the store', async () => {
      const store = new InMemoryRateLimitRepository();
      const limiter = new RateLimiter(store, clockAt(10), { ...options, maxKeys: 100 });
      for (let i = 0; i < 3; i++) limiter.hit('flood', 3);
      for (let round = 0; round < 10; round++) {
        spray(limiter, 60, round * 60);
        await limiter.flush();
        expect(limiter.trackedKeys).toBeLessThanOrEqual(100);
      }
      expect(limiter.hit('flood', 3).allowed).toBe(false);
      // A key seen once, long forgotten here, still has its count in the store: back in view at the next flush.
      const first = 'token:address:2001:db8:0::/64';
      expect(limiter.hit(first, 2)).toEqual({ allowed: true });
      await limiter.flush();
      expect(limiter.hit(first, 2).allowed).toBe(false);
    });
  });
});

describe('RateLimiter while the store fails', () => {
  it('summarises failed flushes (first, a count per interval, recovery), tells its observer of each flush, and counts the hits not shared', async () => {
    const logged: [string, unknown][] = [];
    const flushes: [number, boolean][] = [];
    let down = true;
    const counts = new InMemoryRateLimitRepository();
    const refused = new Error('connection refused');
    const store = new (class extends RateLimitRepository {
      add(windowStart: Date, hits: ReadonlyMap<string, number>) {
        return down ? Promise.reject(refused) : counts.add(windowStart, hits);
      }
      purgeBefore(before: Date) {
        return counts.purgeBefore(before);
      }
    })();
    const clock = clockAt(1);
    const limiter = new RateLimiter(store, clock, {
      windowSeconds: 3600,
      flushIntervalMs: 60_000,
      failureLogIntervalMs: 10_000,
      logger: (message, error) => logged.push([message, error]),
      observer: { flushed: (keys, ok) => flushes.push([keys, ok]) },
    });
    try {
      limiter.hit('a', 100);
      limiter.hit('b', 100);
      expect([limiter.unsharedHits, limiter.sharingFailed]).toEqual([2, false]);
      for (let i = 0; i < 5; i++) {
        limiter.hit('a', 100);
        await limiter.flush();
        clock.advance(1);
      }
      expect([limiter.unsharedHits, limiter.sharingFailed]).toEqual([7, true]);
      expect(logged).toEqual([['rate-limit counts could not be shared; limiting from this instance’s counts meanwhile', refused]]);
      clock.advance(10);
      await limiter.flush();
      expect(logged.slice(1)).toEqual([['rate-limit counts not shared: 5 more failure(s), failing for 15 s (latest: connection refused)', refused]]);
      down = false;
      await limiter.flush();
      expect(logged.slice(2)).toEqual([['rate-limit counts are shared again: recovered after 15 s and 6 failure(s)', undefined]]);
      expect([limiter.unsharedHits, limiter.sharingFailed]).toEqual([0, false]);
      expect(flushes).toEqual([...Array(6).fill([2, false]), [2, true]]);
    } finally {
      limiter.close();
    }
  });
});

describe('RequestRateLimits', () => {
  const limits = (perClient: number, perAddress: number) =>
    new RequestRateLimits(new RateLimiter(new InMemoryRateLimitRepository(), clockAt(30), options), {
      perClient: { token: perClient },
      perAddress: { token: perAddress },
    });

  it('throws too_many_requests (429) with the seconds to wait, per client and per address, each endpoint on its own', () => {
    const rl = limits(1, 2);
    rl.checkClient('token', 'c1');
    const error = (() => {
      try {
        rl.checkClient('token', 'c1');
      } catch (e) {
        return e as OAuthError;
      }
    })();
    expect(error).toBeInstanceOf(OAuthError);
    expect({ code: error!.code, status: error!.status, retry: error!.retryAfterSeconds, description: error!.description }).toEqual({
      code: 'too_many_requests',
      status: 429,
      retry: 30,
      description: 'too many requests from this client, try again in 30 s',
    });
    rl.checkClient('token', 'c2');
    rl.checkAddress('token', '192.0.2.1');
    rl.checkAddress('token', '192.0.2.1');
    expect(() => rl.checkAddress('token', '192.0.2.1')).toThrow('too many requests from this address');
    // No limit set for introspection: never refused.
    for (let i = 0; i < 5; i++) rl.checkClient('introspection', 'c1');
  });

  it('never limits where the limit is 0', () => {
    const rl = limits(0, 0);
    for (let i = 0; i < 100; i++) {
      rl.checkClient('token', 'c1');
      rl.checkAddress('token', '192.0.2.1');
    }
  });
});

describe('addressKey', () => {
  it('counts IPv4 as it is, IPv4-mapped IPv6 as IPv4, and IPv6 by its /64', () => {
    expect(addressKey('192.0.2.7')).toBe('192.0.2.7');
    expect(addressKey('::ffff:192.0.2.7')).toBe('192.0.2.7');
    expect(addressKey('2001:db8:aa:bb:1:2:3:4')).toBe('2001:db8:aa:bb::/64');
    expect(addressKey('2001:DB8:00aa:bb::9')).toBe('2001:db8:aa:bb::/64');
    expect(addressKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(addressKey('::1')).toBe('0:0:0:0::/64');
    expect(addressKey('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
  });

  it('makes addresses of one /64 share a budget', () => {
    const rl = new RequestRateLimits(new RateLimiter(new InMemoryRateLimitRepository(), clockAt(30), options), { perClient: {}, perAddress: { token: 2 } });
    rl.checkAddress('token', '2001:db8:1:2::a');
    rl.checkAddress('token', '2001:db8:1:2::b');
    expect(() => rl.checkAddress('token', '2001:db8:1:2:ffff::c')).toThrow('too many requests from this address');
    rl.checkAddress('token', '2001:db8:1:3::a');
  });
});
