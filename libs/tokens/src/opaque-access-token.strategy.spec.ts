import { FixedClock, RandomSource, type AccessTokenClaims } from '@tessera/oauth-core';
import { InMemoryAccessTokenRepository, InMemoryRevocationRepository, someClaims } from '@tessera/testing';
import { CryptoRandomSource } from './crypto-random.source.js';
import { OpaqueAccessTokenStrategy } from './opaque-access-token.strategy.js';
import { hashToken } from './token-hash.js';

/** Bytes all equal to 1, then 2, ...: predictable tokens. */
class CountingRandomSource extends RandomSource {
  private next = 1;
  token(byteLength: number): string {
    return Buffer.alloc(byteLength, this.next++).toString('base64url');
  }
}

class RecordingAccessTokenRepository extends InMemoryAccessTokenRepository {
  readonly calls: string[] = [];
  override async insert(tokenHash: string, claims: AccessTokenClaims) {
    this.calls.push('insert');
    return super.insert(tokenHash, claims);
  }
  override async findByHash(tokenHash: string) {
    this.calls.push('findByHash');
    return super.findByHash(tokenHash);
  }
  override async revoke(tokenHash: string, at: Date) {
    this.calls.push('revoke');
    return super.revoke(tokenHash, at);
  }
}

describe('OpaqueAccessTokenStrategy', () => {
  let clock: FixedClock;
  let revocations: InMemoryRevocationRepository;
  let repo: RecordingAccessTokenRepository;
  let strategy: OpaqueAccessTokenStrategy;

  beforeEach(() => {
    clock = new FixedClock();
    revocations = new InMemoryRevocationRepository();
    repo = new RecordingAccessTokenRepository(revocations);
    strategy = new OpaqueAccessTokenStrategy(repo, new CountingRandomSource(), clock);
  });

  it('issues tsr_at_ and 32 random bytes, stored only by hash, in one repository call', async () => {
    const claims = someClaims({ format: 'jwt' });
    const token = await strategy.issue(claims);

    expect(token).toBe('tsr_at_AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE');
    expect(repo.calls).toEqual(['insert']);
    expect([...repo.tokens.entries()]).toEqual([[hashToken(token), { claims: { ...claims, format: 'opaque' }, revokedAt: null }]]);
  });

  it('verifies an issued token to its claims', async () => {
    const claims = someClaims();
    const token = await strategy.issue(claims);
    expect(await strategy.verify(token)).toEqual(claims);
  });

  it('stops verifying at exp', async () => {
    const token = await strategy.issue(someClaims());
    clock.advance(3599);
    expect(await strategy.verify(token)).not.toBeNull();
    clock.advance(1);
    expect(await strategy.verify(token)).toBeNull();
  });

  it('revokes by hash', async () => {
    const claims = someClaims({ aud: ['https://api.example'] });
    const token = await strategy.issue(claims);
    const at = clock.now();
    await strategy.revoke(token, claims, at);

    expect(repo.tokens.get(hashToken(token))?.revokedAt).toEqual(at);
    expect(revocations.records).toEqual([
      { seq: '1', kind: 'token', jti: claims.jti, clientId: claims.clientId, audience: ['https://api.example'], expiresAt: new Date(claims.exp * 1000), revokedAt: at },
    ]);
    expect(await strategy.verify(token)).toBeNull();
  });

  it('rejects garbage and unknown tokens; only a well-formed one reaches the repository', async () => {
    const unknown = `tsr_at_${'A'.repeat(43)}`;
    for (const token of ['', 'tsr_at_', `tsr_at_${'A'.repeat(42)}`, `tsr_at_${'A'.repeat(44)}`, `tsr_at_${'A'.repeat(42)}+`, `tsr_rt_${'A'.repeat(43)}`, 'a.b.c']) {
      expect(strategy.recognizes(token)).toBe(false);
      expect(await strategy.verify(token)).toBeNull();
    }
    expect(repo.calls).toEqual([]);
    expect(strategy.recognizes(unknown)).toBe(true);
    expect(await strategy.verify(unknown)).toBeNull();
    expect(repo.calls).toEqual(['findByHash']);
  });

  it('draws 256 bits from the random source for every token', async () => {
    const real = new OpaqueAccessTokenStrategy(repo, new CryptoRandomSource(), clock);
    const a = await real.issue(someClaims());
    const b = await real.issue(someClaims());
    expect(a).toMatch(/^tsr_at_[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(a.slice('tsr_at_'.length), 'base64url')).toHaveLength(32);
    expect(a).not.toBe(b);
    expect(real.recognizes(a)).toBe(true);
  });
});
