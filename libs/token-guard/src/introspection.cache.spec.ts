import { IntrospectionCache, type IntrospectionOutcome } from './introspection.cache.js';
import type { TokenRecord } from './verified-access-token.js';

const T0 = Date.parse('2026-01-01T00:00:00Z');

/** A clock the test moves by hand, and an introspection double that counts calls and answers from a table. */
function setup(options: Partial<{ ttlSeconds: number; inactiveTtlSeconds: number; maxEntries: number }> = {}) {
  let now = T0;
  const answers = new Map<string, IntrospectionOutcome>();
  const calls: string[] = [];
  let gate: Promise<void> = Promise.resolve();
  const cache = new IntrospectionCache(
    async (token) => {
      calls.push(token);
      await gate;
      const answer = answers.get(token);
      if (!answer) throw new Error('auth server unreachable');
      return answer;
    },
    { ttlSeconds: 60, inactiveTtlSeconds: 5, maxEntries: 100, ...options },
    () => now,
  );
  return {
    cache,
    calls,
    answers,
    advance: (seconds: number) => (now += seconds * 1000),
    hold: () => {
      let release!: () => void;
      gate = new Promise((r) => (release = r));
      return release;
    },
  };
}

function active(token: string, expiresInSeconds: number, extra: Partial<TokenRecord['token']> = {}): IntrospectionOutcome {
  return {
    active: true,
    record: {
      token: {
        subject: 's',
        clientId: 'c',
        scopes: ['read'],
        audience: ['https://api.example'],
        issuer: 'https://as.example',
        expiresAt: new Date(T0 + expiresInSeconds * 1000),
        jti: `jti-${token}`,
        format: 'opaque',
        ...extra,
      },
      issuedAt: T0 / 1000,
    },
  };
}

describe('IntrospectionCache', () => {
  it('keeps an active result for the ttl when the token lives longer', async () => {
    const t = setup({ ttlSeconds: 60 });
    t.answers.set('a', active('a', 3600));
    await t.cache.check('a');
    t.advance(59);
    expect(await t.cache.check('a')).toEqual(active('a', 3600));
    expect(t.calls).toEqual(['a']);
    t.advance(2);
    await t.cache.check('a');
    expect(t.calls).toEqual(['a', 'a']);
  });

  it("never keeps an active result past the token's expiry", async () => {
    const t = setup({ ttlSeconds: 60 });
    t.answers.set('a', active('a', 10));
    await t.cache.check('a');
    t.advance(9);
    await t.cache.check('a');
    expect(t.calls).toHaveLength(1);
    t.advance(2);
    await t.cache.check('a');
    expect(t.calls).toHaveLength(2);
  });

  it('does not cache a token that has already expired', async () => {
    const t = setup();
    t.answers.set('a', active('a', -1));
    await t.cache.check('a');
    await t.cache.check('a');
    expect(t.calls).toHaveLength(2);
  });

  it('keeps an inactive result for the inactive ttl only', async () => {
    const t = setup({ ttlSeconds: 60, inactiveTtlSeconds: 5 });
    t.answers.set('x', { active: false, reason: 'token is not active' });
    expect(await t.cache.check('x')).toEqual({ active: false, reason: 'token is not active' });
    t.advance(4);
    await t.cache.check('x');
    expect(t.calls).toHaveLength(1);
    t.advance(2);
    await t.cache.check('x');
    expect(t.calls).toHaveLength(2);
  });

  it('holds at most maxEntries, dropping the least recently used', async () => {
    const t = setup({ maxEntries: 2 });
    for (const token of ['a', 'b', 'c']) t.answers.set(token, active(token, 3600));
    await t.cache.check('a');
    await t.cache.check('b');
    await t.cache.check('a'); // a is now more recent than b
    await t.cache.check('c'); // evicts b
    expect(t.cache.size).toBe(2);
    expect(t.calls).toEqual(['a', 'b', 'c']);
    await t.cache.check('a');
    await t.cache.check('b');
    expect(t.calls).toEqual(['a', 'b', 'c', 'b']);
  });

  it('shares one introspection call among concurrent checks of the same token', async () => {
    const t = setup();
    t.answers.set('a', active('a', 3600));
    const release = t.hold();
    const checks = Promise.all([t.cache.check('a'), t.cache.check('a'), t.cache.check('a')]);
    release();
    expect(await checks).toEqual([active('a', 3600), active('a', 3600), active('a', 3600)]);
    expect(t.calls).toEqual(['a']);
  });

  it('gives a failed call to every waiter and caches nothing, so the next check calls again', async () => {
    const t = setup();
    const release = t.hold();
    const checks = Promise.allSettled([t.cache.check('down'), t.cache.check('down')]);
    release();
    expect((await checks).map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(t.calls).toHaveLength(1);
    t.answers.set('down', active('down', 3600));
    expect((await t.cache.check('down')).active).toBe(true);
    expect(t.calls).toHaveLength(2);
  });

  it('drops active results by predicate, and does not cache a result that was in flight meanwhile', async () => {
    const t = setup();
    t.answers.set('a', active('a', 3600, { clientId: 'c1' }));
    t.answers.set('b', active('b', 3600, { clientId: 'c2' }));
    t.answers.set('x', { active: false, reason: 'token is not active' });
    await Promise.all([t.cache.check('a'), t.cache.check('b'), t.cache.check('x')]);
    expect(t.cache.deleteWhere((r) => r.token.clientId === 'c1' || r.token.jti === 'jti-x')).toBe(1);
    await Promise.all([t.cache.check('a'), t.cache.check('b'), t.cache.check('x')]);
    expect(t.calls.sort()).toEqual(['a', 'a', 'b', 'x']);

    t.answers.set('c', active('c', 3600));
    const release = t.hold();
    const inFlight = t.cache.check('c');
    await Promise.resolve();
    t.cache.deleteWhere(() => false);
    release();
    expect((await inFlight).active).toBe(true);
    await t.cache.check('c');
    expect(t.calls.filter((c) => c === 'c')).toHaveLength(2);
  });
});
