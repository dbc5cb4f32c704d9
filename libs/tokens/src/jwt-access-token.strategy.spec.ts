import { jest } from '@jest/globals';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { FixedClock, LocalChangeFeed, SIGNING_ALGORITHMS, type SigningAlgorithm } from '@tessera/oauth-core';
import { InMemoryRevocationRepository, InMemorySigningKeyRepository, someClaims } from '@tessera/testing';
import { JwtAccessTokenStrategy, MAX_VERIFIED_TOKENS } from './jwt-access-token.strategy.js';
import { KeySet, RETIRED_KEY_SKEW_SECONDS, RETIREMENT_GRACE_SECONDS } from './key-set.js';

const ISSUER = 'http://localhost:3000';

describe('JwtAccessTokenStrategy', () => {
  let clock: FixedClock;
  let keyRepo: InMemorySigningKeyRepository;
  let revocations: InMemoryRevocationRepository;
  let keySet: KeySet;
  let strategy: JwtAccessTokenStrategy;

  async function setUp(algorithm: SigningAlgorithm = 'ES256') {
    clock = new FixedClock();
    keyRepo = new InMemorySigningKeyRepository();
    revocations = new InMemoryRevocationRepository();
    keySet = new KeySet(keyRepo, new LocalChangeFeed(), clock, { algorithm, maxTokenTtlSeconds: 3600 });
    await keySet.init();
    strategy = new JwtAccessTokenStrategy(keySet, revocations, clock, ISSUER);
  }

  /** What verify returns: the claims issued, and the key that signed them. */
  const signed = (claims: ReturnType<typeof someClaims>) => ({ ...claims, kid: keySet.signingKey().kid });

  beforeEach(() => setUp());
  afterEach(() => keySet.close());

  it.each(SIGNING_ALGORITHMS)('issues an RFC 9068 token with %s and verifies it to the same claims', async (alg) => {
    keySet.close();
    await setUp(alg);
    const claims = someClaims({ aud: ['https://api.example'], scope: ['read', 'write'], grantId: 'grant-1', format: 'jwt' });
    const token = await strategy.issue(claims);

    expect(decodeProtectedHeader(token)).toEqual({ alg, kid: keySet.signingKey().kid, typ: 'at+jwt' });
    expect(decodeJwt(token)).toEqual({
      iss: ISSUER,
      sub: claims.sub,
      aud: 'https://api.example',
      exp: claims.exp,
      iat: claims.iat,
      jti: claims.jti,
      client_id: claims.clientId,
      scope: 'read write',
      gid: 'grant-1',
    });
    expect(await strategy.verify(token)).toEqual(signed(claims));
  });

  it.each(SIGNING_ALGORITHMS)('signs %s without WebCrypto (node:crypto, synchronously), in a form jose verifies', async (alg) => {
    keySet.close();
    await setUp(alg);
    const signing = jest.spyOn(globalThis.crypto.subtle, 'sign');
    try {
      const claims = someClaims({ format: 'jwt' });
      const tokens = [await strategy.issue(claims), await strategy.issue(claims)];
      expect(signing).not.toHaveBeenCalled();
      for (const token of tokens) expect(await strategy.verify(token)).toEqual(signed(claims));
    } finally {
      signing.mockRestore();
    }
  });

  it('writes aud as a list unless there is exactly one, and leaves out an empty scope and a missing grant', async () => {
    const many = someClaims({ aud: ['https://a.example', 'https://b.example'], scope: [], grantId: null, format: 'jwt' });
    const none = someClaims({ aud: [], format: 'jwt' });

    const payload = decodeJwt(await strategy.issue(many));
    expect(payload.aud).toEqual(['https://a.example', 'https://b.example']);
    expect(payload).not.toHaveProperty('scope');
    expect(payload).not.toHaveProperty('gid');
    expect(await strategy.verify(await strategy.issue(many))).toEqual(signed(many));
    expect(decodeJwt(await strategy.issue(none)).aud).toEqual([]);
    expect(await strategy.verify(await strategy.issue(none))).toEqual(signed(none));
  });

  it('issues and verifies without touching a repository', async () => {
    const untouchable = async () => {
      throw new Error('repository touched');
    };
    keyRepo.listPublished = untouchable;
    revocations.revokeToken = untouchable;
    revocations.isRevoked = untouchable;

    const claims = someClaims({ format: 'jwt' });
    expect(await strategy.verify(await strategy.issue(claims))).toEqual(signed(claims));
  });

  it('recognizes the JWS compact shape only', async () => {
    expect(strategy.recognizes(await strategy.issue(someClaims()))).toBe(true);
    for (const token of ['', 'a.b', 'a.b.', 'a.b.c.d', 'a.b+.c', `tsr_at_${'A'.repeat(43)}`]) {
      expect(strategy.recognizes(token)).toBe(false);
      expect(await strategy.verify(token)).toBeNull();
    }
  });

  it('returns null for expired, forged and foreign tokens', async () => {
    const token = await strategy.issue(someClaims({ format: 'jwt' }));
    const [header, payload, signature] = token.split('.');
    expect(await strategy.verify(`${header}.${payload}.${signature.slice(0, 10)}${signature[10] === 'A' ? 'B' : 'A'}${signature.slice(11)}`)).toBeNull();
    expect(await strategy.verify(await strategy.issue(someClaims({ iss: 'https://evil.example' })))).toBeNull();

    clock.advance(3600);
    expect(await strategy.verify(token)).toBeNull();
  });

  it('accepts a token only under the algorithm of its key, even when both algorithms are pinned', async () => {
    const token = await strategy.issue(someClaims({ format: 'jwt' }));
    const { kid } = decodeProtectedHeader(token);
    await keySet.rotate('RS256');
    expect(keySet.algorithms()).toEqual(['ES256', 'RS256']);

    const [, payload, signature] = token.split('.');
    const relabelled = Buffer.from(JSON.stringify({ alg: 'RS256', kid, typ: 'at+jwt' })).toString('base64url');
    expect(await strategy.verify(token)).not.toBeNull();
    expect(await strategy.verify(`${relabelled}.${payload}.${signature}`)).toBeNull();
  });

  it('verifies tokens signed before a rotation until the retired key is dropped', async () => {
    const before = await strategy.issue(someClaims({ exp: clock.nowSeconds() + 7200, format: 'jwt' }));
    await keySet.rotate('EdDSA');
    const after = await strategy.issue(someClaims({ format: 'jwt' }));

    expect(decodeProtectedHeader(after).alg).toBe('EdDSA');
    expect(await strategy.verify(before)).not.toBeNull();
    expect(await strategy.verify(after)).not.toBeNull();

    // Published for the longest token lifetime (3600 s here) plus the skew; a token claiming to live longer is refused after.
    clock.advance(3600 + RETIRED_KEY_SKEW_SECONDS - 1);
    expect(await strategy.verify(before)).not.toBeNull();
    clock.advance(1);
    expect(await strategy.verify(before)).toBeNull();
  });

  it('accepts what another instance signed with the old key before it heard of the rotation, for a grace of seconds only', async () => {
    // Another instance on the same keys, which has not heard of the rotation yet (no change event reaches it).
    const lagging = new KeySet(keyRepo, new LocalChangeFeed(), clock, { algorithm: 'ES256', maxTokenTtlSeconds: 3600 });
    await lagging.init();
    const laggingStrategy = new JwtAccessTokenStrategy(lagging, revocations, clock, ISSUER);
    try {
      await keySet.rotate();
      const rotatedAt = clock.nowSeconds();
      const now = () => someClaims({ iat: clock.nowSeconds(), exp: clock.nowSeconds() + 600, format: 'jwt' });
      // Five seconds on (a LISTEN connection being replaced, clocks a little apart), it still signs with the old key.
      clock.advance(5);
      expect(await strategy.verify(await laggingStrategy.issue(now()))).not.toBeNull();
      clock.advance(RETIREMENT_GRACE_SECONDS - 5);
      expect(await strategy.verify(await laggingStrategy.issue(now()))).not.toBeNull();
      clock.advance(1);
      expect(await strategy.verify(await laggingStrategy.issue(now()))).toBeNull();
      expect(keySet.jwks().keys.find((k) => k.kid === lagging.signingKey().kid)).toMatchObject({ retired_at: rotatedAt + RETIREMENT_GRACE_SECONDS });
    } finally {
      lagging.close();
    }
  });

  describe('a token verified once', () => {
    let verifications: jest.SpiedFunction<SubtleCrypto['verify']>;
    beforeEach(() => (verifications = jest.spyOn(globalThis.crypto.subtle, 'verify')));
    afterEach(() => verifications.mockRestore());

    it('is not verified again: its signature is checked once', async () => {
      const claims = someClaims({ format: 'jwt' });
      const token = await strategy.issue(claims);
      for (let i = 0; i < 3; i++) expect(await strategy.verify(token)).toEqual(signed(claims));
      expect(verifications).toHaveBeenCalledTimes(1);
      // The very token only: another one with the same signature and other claims is checked, and refused.
      const [header, , signature] = token.split('.');
      const forged = Buffer.from(JSON.stringify({ ...decodeJwt(token), scope: 'admin' })).toString('base64url');
      expect(await strategy.verify(`${header}.${forged}.${signature}`)).toBeNull();
      expect(verifications).toHaveBeenCalledTimes(2);
    });

    it('still expires', async () => {
      const token = await strategy.issue(someClaims({ format: 'jwt' }));
      expect(await strategy.verify(token)).not.toBeNull();
      clock.advance(3600);
      expect(await strategy.verify(token)).toBeNull();
    });

    it('is dropped once revoked: the cache does not fill with revoked tokens, and one seen again is checked again', async () => {
      const claims = someClaims({ format: 'jwt' });
      const token = await strategy.issue(claims);
      expect(await strategy.verify(token)).toEqual(signed(claims));
      await strategy.revoke(token, claims, clock.now());
      expect(await strategy.verify(token)).toEqual(signed(claims)); // revocation is the caller's check, not this one's
      expect(verifications).toHaveBeenCalledTimes(2);
    });

    it('holds a bounded number of tokens: past it, the oldest one is checked again', async () => {
      const first = await strategy.issue(someClaims({ format: 'jwt' }));
      await strategy.verify(first);
      for (let i = 0; i < MAX_VERIFIED_TOKENS - 1; i++) await strategy.verify(await strategy.issue(someClaims({ format: 'jwt' })));
      expect(verifications).toHaveBeenCalledTimes(MAX_VERIFIED_TOKENS);
      await strategy.verify(first); // still held: the cache is full, not over
      expect(verifications).toHaveBeenCalledTimes(MAX_VERIFIED_TOKENS);
      await strategy.verify(await strategy.issue(someClaims({ format: 'jwt' }))); // one more: the oldest goes
      await strategy.verify(first);
      expect(verifications).toHaveBeenCalledTimes(MAX_VERIFIED_TOKENS + 2);
    });

    it('is refused once its key is dropped', async () => {
      const before = await strategy.issue(someClaims({ exp: clock.nowSeconds() + 7200, format: 'jwt' }));
      expect(await strategy.verify(before)).not.toBeNull();
      await keySet.rotate('ES256');
      expect(await strategy.verify(before)).not.toBeNull();
      clock.advance(3600 + RETIRED_KEY_SKEW_SECONDS + 1);
      expect(await strategy.verify(before)).toBeNull(); // the retired key is no longer published
    });
  });

  it('revokes by jti until the token expires', async () => {
    const claims = someClaims({ format: 'jwt' });
    const token = await strategy.issue(claims);
    const at = clock.now();
    await strategy.revoke(token, claims, at);

    expect(revocations.records).toEqual([
      { seq: '1', kind: 'token', jti: claims.jti, clientId: claims.clientId, audience: claims.aud, expiresAt: new Date(claims.exp * 1000), revokedAt: at },
    ]);
    expect(await revocations.isRevoked(claims)).toBe(true);
  });
});
