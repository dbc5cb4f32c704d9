import { KeyObject, sign, type SignKeyObjectInput } from 'node:crypto';
import { AccessTokenStrategy, Clock, hashToken, OAuthError, RevocationRepository, type AccessTokenClaims, type SigningAlgorithm } from '@tessera/oauth-core';
import { JwtAccessTokenVerifier } from './jwt-access-token.verifier.js';
import type { KeySet } from './key-set.js';

const JWS_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
/** Verified tokens kept at most; past it, the oldest goes. */
export const MAX_VERIFIED_TOKENS = 10_000;

/**
 * The JWS signature of each algorithm (RFC 7518 §3.3 and §3.4, RFC 8037 §3.1) by node:crypto: jose signs through
 * WebCrypto, which cost about three times the CPU per ES256 signature here (about 120 us against 30 to 40 us), the
 * largest single cost of issuing a JWT. Asynchronously (`sign` with a callback), on libuv's thread pool, so that
 * the event loop goes on with other requests meanwhile: measured against the same signature made synchronously,
 * JWT issuance ran about 1.4 times as many requests per second (the thread pool keeps a thread free of password
 * hashes for such work, see TESSERA_SIGN_IN_MAX_CONCURRENT_HASHES). ECDSA signatures take JWS's r || s form
 * (ieee-p1363). Tokens are still verified with jose (JwtAccessTokenVerifier), on both sides.
 */
const SIGNERS: Record<SigningAlgorithm, (input: Buffer, key: KeyObject) => Promise<Buffer>> = {
  ES256: (input, key) => signed('sha256', input, { key, dsaEncoding: 'ieee-p1363' }),
  EdDSA: (input, key) => signed(null, input, key),
  RS256: (input, key) => signed('sha256', input, key),
};

function signed(algorithm: string | null, input: Buffer, key: KeyObject | SignKeyObjectInput): Promise<Buffer> {
  return new Promise((resolve, reject) => sign(algorithm, input, key, (error, signature) => (error ? reject(error) : resolve(signature))));
}
const base64url = (json: unknown) => Buffer.from(JSON.stringify(json)).toString('base64url');

/**
 * RFC 9068 JWT access tokens. Issuing signs with the in-memory key and writes
 * nothing; revocation is recorded by `jti`, and the caller checks it.
 */
export class JwtAccessTokenStrategy extends AccessTokenStrategy {
  readonly format = 'jwt' as const;

  constructor(
    private readonly keySet: KeySet,
    private readonly revocations: RevocationRepository,
    private readonly clock: Clock,
    private readonly issuer: string,
  ) {
    super();
  }

  recognizes(token: string): boolean {
    return JWS_SHAPE.test(token);
  }

  /** Per signing key: its node:crypto key object and its encoded JOSE header, each made once. */
  private readonly signers = new WeakMap<CryptoKey, { keyObject: KeyObject; header: string }>();

  async issue(claims: AccessTokenClaims): Promise<string> {
    const { kid, alg, key } = this.keySet.signingKey();
    let signer = this.signers.get(key);
    if (!signer) this.signers.set(key, (signer = { keyObject: KeyObject.from(key), header: base64url({ alg, kid, typ: 'at+jwt' }) }));
    const payload: Record<string, unknown> = {
      iss: claims.iss,
      sub: claims.sub,
      aud: claims.aud.length === 1 ? claims.aud[0] : claims.aud,
      exp: claims.exp,
      iat: claims.iat,
      jti: claims.jti,
      client_id: claims.clientId,
    };
    if (claims.scope.length > 0) payload.scope = claims.scope.join(' ');
    if (claims.grantId) payload.gid = claims.grantId;
    const input = `${signer.header}.${base64url(payload)}`;
    return `${input}.${(await SIGNERS[alg](Buffer.from(input), signer.keyObject)).toString('base64url')}`;
  }

  /**
   * Tokens whose signature and claims were verified here, by the whole token (never by a part of it: a signature
   * taken alone could be moved onto other claims), with the key that verified each. Introspection and revocation
   * see the same token again and again; a hit costs a map lookup instead of a signature check. What can change
   * after the check is checked again at each hit: expiry, the key still published (and so still trusted) as the
   * very key that verified the token, and its retirement. Revocation is not cached here: the caller checks it, and
   * a token revoked here leaves the cache (it would only hold memory: such a token is refused from the log).
   *
   * Keyed by the SHA-256 of the whole token, not by the token: the key string of a cached token was most of its
   * entry (a JWT runs to 500 bytes, its digest to 43), and a full cache of them stayed in the heap for good; V8 then
   * lets the heap grow to a multiple of what is live before collecting, so every byte kept here counted several
   * times in the server's peak RSS.
   */
  private readonly verified = new Map<string, { claims: AccessTokenClaims; key: unknown }>();

  /** Any audience is accepted: this serves introspection, which answers for every resource. */
  async verify(token: string): Promise<AccessTokenClaims | null> {
    if (!this.recognizes(token)) return null;
    const digest = hashToken(token);
    const hit = this.verified.get(digest);
    if (hit) {
      if (this.stillValid(hit.claims, hit.key)) return hit.claims;
      this.verified.delete(digest);
    }
    // Built per call: the pinned algorithms follow the key set across rotations.
    const verifier = new JwtAccessTokenVerifier({
      issuer: this.issuer,
      algorithms: this.keySet.algorithms(),
      getKey: (kid, alg) => {
        const found = this.keySet.verificationKey(kid);
        return found?.alg === alg ? found.key : undefined;
      },
      retiredAt: (kid) => this.keySet.verificationKey(kid)?.retiredAt,
      clock: this.clock,
    });
    let claims: AccessTokenClaims;
    try {
      claims = await verifier.verify(token);
    } catch (error) {
      if (error instanceof OAuthError) return null;
      throw error;
    }
    const key = claims.kid === undefined ? undefined : this.keySet.verificationKey(claims.kid)?.key;
    if (key) {
      if (this.verified.size >= MAX_VERIFIED_TOKENS) this.verified.delete(this.verified.keys().next().value!);
      // The issuer was checked equal to ours: one string for every cached token, not a copy each.
      this.verified.set(digest, { claims: { ...claims, iss: this.issuer }, key });
    }
    return claims;
  }

  /** What `verify` would still say of claims it verified with `key`: unexpired, issued in the past, the same key published, not issued after its retirement. */
  private stillValid(claims: AccessTokenClaims, key: unknown): boolean {
    const now = this.clock.nowSeconds();
    if (claims.exp <= now || claims.iat > now) return false;
    const found = this.keySet.verificationKey(claims.kid!);
    return found !== undefined && found.key === key && (found.retiredAt === undefined || claims.iat <= found.retiredAt);
  }

  async revoke(token: string, claims: AccessTokenClaims, at: Date): Promise<void> {
    await this.revocations.revokeToken(claims.jti, claims.clientId, claims.aud, new Date(claims.exp * 1000), at);
    this.verified.delete(hashToken(token));
  }
}
