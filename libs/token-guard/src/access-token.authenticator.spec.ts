import { OAuthError } from '@tessera/oauth-core';
import { AccessTokenAuthenticator, type FollowedRevocations } from './access-token.authenticator.js';
import { IntrospectionCache, type IntrospectionOutcome } from './introspection.cache.js';
import { RevocationList } from './revocation.list.js';
import type { RevocationFeedFollower } from './revocation-feed.follower.js';
import { TokenCache } from './token.cache.js';

const NOW = Date.parse('2026-01-01T00:00:00Z');
const OPAQUE = 'tsr_at_opaque-token';
const JWT = 'eyJh.eyJz.c2ln';

function active(jti: string): IntrospectionOutcome {
  return {
    active: true,
    record: {
      token: { subject: 's', clientId: 'c', scopes: ['read'], audience: ['https://api'], issuer: 'https://as', expiresAt: new Date(NOW + 60_000), jti, format: 'opaque' },
      issuedAt: NOW / 1000 - 10,
    },
  };
}

/** The authenticator over an introspection double, and a follower double whose staleness the test sets. */
function setup(onStale: 'fail-closed' | 'introspect') {
  const introspected: string[] = [];
  const introspection = new IntrospectionCache(
    async (token) => {
      introspected.push(token);
      return token.includes('revoked') ? { active: false, reason: 'token is not active' } : active(`jti-of-${token}`);
    },
    { ttlSeconds: 60, inactiveTtlSeconds: 5, maxEntries: 100 },
    () => NOW,
  );
  let stale = false;
  const nudges: number[] = [];
  const follower = {
    stale: () => stale,
    nudge: async () => void nudges.push(1),
    status: () => ({ following: true, caughtUp: !stale, stale, lastSeq: '0' }),
  } as unknown as RevocationFeedFollower;
  const list = new RevocationList(() => NOW);
  const feed: FollowedRevocations = { follower, list, onStale, settleWaitMs: 10 };
  const authenticator = new AccessTokenAuthenticator(
    { check: () => Promise.reject(new Error('never reached: JWTs are only introspected here, while the feed is stale')) },
    new TokenCache(100, () => NOW),
    introspection,
    () => NOW,
    feed,
  );
  return { authenticator, list, introspected, nudges, setStale: (v: boolean) => (stale = v) };
}

describe('AccessTokenAuthenticator with the revocation feed', () => {
  it('refuses a token the feed revoked, even with a cached result', async () => {
    const { authenticator, list } = setup('fail-closed');
    expect((await authenticator.authenticate(OPAQUE)).jti).toBe(`jti-of-${OPAQUE}`);
    list.add({ seq: '1', kind: 'token', jti: `jti-of-${OPAQUE}`, expiresAt: new Date(NOW + 60_000) });
    await expect(authenticator.authenticate(OPAQUE)).rejects.toEqual(OAuthError.invalidToken('token revoked'));
  });

  it('knows a token verified before, with no await, until it is revoked or the feed goes stale', async () => {
    const { authenticator, list, setStale } = setup('fail-closed');
    expect(authenticator.known(OPAQUE)).toBeUndefined(); // never verified
    await authenticator.authenticate(OPAQUE);
    expect(authenticator.known(OPAQUE)).toMatchObject({ jti: `jti-of-${OPAQUE}`, format: 'opaque' });
    setStale(true);
    expect(authenticator.known(OPAQUE)).toBeUndefined(); // authenticate decides what a stale feed means
    setStale(false);
    list.add({ seq: '1', kind: 'token', jti: `jti-of-${OPAQUE}`, expiresAt: new Date(NOW + 60_000) });
    expect(authenticator.known(OPAQUE)).toBeUndefined();
    expect(authenticator.known('tsr_at_revoked')).toBeUndefined();
  });

  it('fail-closed: while the feed is stale, every token gets temporarily_unavailable, after one reconnection attempt', async () => {
    const { authenticator, setStale, nudges } = setup('fail-closed');
    setStale(true);
    await expect(authenticator.authenticate(OPAQUE)).rejects.toMatchObject({ code: 'temporarily_unavailable' });
    await expect(authenticator.authenticate(JWT)).rejects.toMatchObject({ code: 'temporarily_unavailable' });
    expect(nudges).toHaveLength(2);
    setStale(false);
    await expect(authenticator.authenticate(OPAQUE)).resolves.toMatchObject({ format: 'opaque' });
  });

  it('introspect: while the feed is stale, every token, JWTs too, is introspected afresh', async () => {
    const { authenticator, setStale, introspected } = setup('introspect');
    await authenticator.authenticate(OPAQUE); // cached now
    setStale(true);
    expect(await authenticator.authenticate(OPAQUE)).toMatchObject({ format: 'opaque' });
    expect(await authenticator.authenticate(JWT)).toMatchObject({ format: 'jwt', jti: `jti-of-${JWT}` });
    await expect(authenticator.authenticate('tsr_at_revoked')).rejects.toEqual(OAuthError.invalidToken('token is not active'));
    expect(introspected).toEqual([OPAQUE, OPAQUE, JWT, 'tsr_at_revoked']);
  });
});
