import type { KeyObject } from 'node:crypto';
import { errors, jwtVerify, type CompactJWSHeaderParameters, type JWTPayload } from 'jose';
import { Clock, OAuthError, type AccessTokenClaims } from '@tessera/oauth-core';

/**
 * RFC 9068 JWT access-token validation (§4), usable by the auth server (over
 * its KeySet) and by resource servers (over a remote JWKS).
 */
export interface JwtAccessTokenVerifierOptions {
  issuer: string;
  /** When set, `aud` must contain it. */
  audience?: string;
  /** The accepted `alg` values; never `none` or an HMAC algorithm. */
  algorithms: string[];
  /** The public key for `kid`, or undefined when there is none for that kid and alg. */
  getKey: (kid: string, alg: string) => Promise<CryptoKey | KeyObject | undefined> | CryptoKey | KeyObject | undefined;
  /**
   * When the key `kid` was retired (a NumericDate), if it was: a token it signed that claims a later `iat` is
   * refused, since a retired key never signs again. Asked after the signature is checked.
   */
  retiredAt?: (kid: string) => number | undefined;
  clock: Clock;
  clockToleranceSeconds?: number;
}

const REQUIRED_CLAIMS = ['iss', 'sub', 'aud', 'exp', 'iat', 'jti', 'client_id'];

export class JwtAccessTokenVerifier {
  constructor(private readonly options: JwtAccessTokenVerifierOptions) {
    const unsafe = options.algorithms.filter((alg) => alg.toLowerCase() === 'none' || alg.toUpperCase().startsWith('HS'));
    if (options.algorithms.length === 0 || unsafe.length > 0) {
      throw new Error(`JWT access tokens need pinned asymmetric algorithms, got [${options.algorithms.join(', ')}]`);
    }
  }

  /** The claims of a valid token; throws `invalid_token` otherwise. */
  async verify(token: string): Promise<AccessTokenClaims> {
    const { issuer, audience, algorithms, clock, clockToleranceSeconds = 0 } = this.options;
    let payload: JWTPayload;
    let protectedHeader: CompactJWSHeaderParameters;
    try {
      ({ payload, protectedHeader } = await jwtVerify(token, this.resolveKey, {
        issuer,
        audience,
        algorithms,
        requiredClaims: REQUIRED_CLAIMS,
        currentDate: clock.now(),
        clockTolerance: clockToleranceSeconds,
      }));
    } catch (error) {
      if (error instanceof OAuthError) throw error;
      throw new OAuthError('invalid_token', reasonFor(error), { cause: error });
    }
    // resolveKey has already refused a header without a kid.
    const claims = { ...toClaims(payload), kid: protectedHeader.kid! };
    // jose checks iat only against a maximum age; a token from the future is as suspect as an expired one.
    if (claims.iat > clock.now().getTime() / 1000 + clockToleranceSeconds) throw OAuthError.invalidToken('token issued in the future');
    const retiredAt = this.options.retiredAt?.(claims.kid);
    if (retiredAt !== undefined && claims.iat > retiredAt) throw OAuthError.invalidToken('token issued after its signing key was retired');
    return claims;
  }

  /** Header checks run before any key lookup or signature check. */
  private readonly resolveKey = async (header: CompactJWSHeaderParameters) => {
    if (!isAccessTokenType(header.typ)) throw OAuthError.invalidToken('token type is not at+jwt');
    if (!header.kid) throw OAuthError.invalidToken('token has no kid');
    if (!this.options.algorithms.includes(header.alg)) throw OAuthError.invalidToken('algorithm not allowed');
    const key = await this.options.getKey(header.kid, header.alg);
    if (!key) throw OAuthError.invalidToken('unknown signing key');
    return key;
  };
}

/** RFC 9068 §4: `typ` is `at+jwt` or `application/at+jwt`, compared case-insensitively. */
function isAccessTokenType(typ: string | undefined): boolean {
  return typ !== undefined && typ.toLowerCase().replace(/^application\//, '') === 'at+jwt';
}

function reasonFor(error: unknown): string {
  if (error instanceof errors.JWTExpired) return 'token expired';
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.reason === 'missing') return `token has no ${error.claim} claim`;
    if (error.claim === 'nbf') return 'token not yet valid';
    if (error.claim === 'iss') return 'unexpected issuer';
    if (error.claim === 'aud') return 'unexpected audience';
    return `invalid ${error.claim} claim`;
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'invalid signature';
  if (error instanceof errors.JOSEAlgNotAllowed) return 'algorithm not allowed';
  return 'malformed token';
}

function toClaims(payload: JWTPayload): AccessTokenClaims {
  const { iss, sub, aud, exp, iat, jti, client_id, scope, gid } = payload;
  const audiences = typeof aud === 'string' ? [aud] : aud;
  const valid =
    typeof iss === 'string' &&
    typeof sub === 'string' &&
    Array.isArray(audiences) &&
    audiences.every((a) => typeof a === 'string') &&
    typeof exp === 'number' &&
    typeof iat === 'number' &&
    typeof jti === 'string' &&
    typeof client_id === 'string' &&
    (scope === undefined || typeof scope === 'string') &&
    (gid === undefined || typeof gid === 'string');
  if (!valid) throw OAuthError.invalidToken('malformed claims');
  return {
    jti,
    iss,
    sub,
    clientId: client_id,
    aud: audiences,
    scope: scope ? scope.split(' ').filter(Boolean) : [],
    iat,
    exp,
    grantId: gid ?? null,
    format: 'jwt',
  };
}
