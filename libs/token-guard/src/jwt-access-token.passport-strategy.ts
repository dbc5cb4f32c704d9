// RFC 9068 §4: JWT access tokens, verified locally through passport-jwt with the
// auth server's JWKS. Header checks and key lookup happen in the key provider;
// the signature, iss, aud, exp and nbf are then checked by the same jose-based
// verifier the auth server uses (libs/tokens), not by jsonwebtoken, which has no
// EdDSA and is the slow part of passport-jwt.
import type { KeyObject } from 'node:crypto';
import { PassportStrategy } from '@nestjs/passport';
import { decodeProtectedHeader, type ProtectedHeaderParameters } from 'jose';
import { ExtractJwt, Strategy as JwtStrategy, type SecretOrKeyProvider } from 'passport-jwt';
import { OAuthError, SystemClock, type AccessTokenClaims } from '@tessera/oauth-core';
import { JwtAccessTokenVerifier } from '@tessera/tokens';
import type { DiscoveryClient } from './discovery.client.js';
import type { JwksKeyStore, VerificationKey } from './jwks.key-store.js';
import type { TokenGuardSettings } from './token-guard.options.js';
import type { TokenRecord } from './verified-access-token.js';

export const JWT_STRATEGY = 'tessera-jwt';

/** The asymmetric algorithms we verify: never `none`, never HS*. */
export const VERIFIABLE_ALGORITHMS = ['ES256', 'ES384', 'ES512', 'EdDSA', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'] as const;

/**
 * passport-jwt calls its static `JwtStrategy.JwtVerifier(token, key, options, done)`
 * (jsonwebtoken). Options that carry this key are ours and go to the jose
 * verifier instead; any other passport-jwt strategy in the process is untouched.
 * (A string key: passport-jwt copies the options with for…in, which drops symbols.)
 */
const VERIFY = '__tesseraTokenGuardVerify';
type Verify = (token: string, key: KeyObject) => Promise<AccessTokenClaims & { kid: string }>;
type JwtVerifierFn = (token: string, key: unknown, options: Record<string, unknown>, done: (error: unknown, payload?: unknown) => void) => void;
const Strategy = JwtStrategy as unknown as { JwtVerifier: JwtVerifierFn & { [VERIFY]?: true } };
if (!Strategy.JwtVerifier[VERIFY]) {
  const jsonwebtoken = Strategy.JwtVerifier;
  const dispatch: JwtVerifierFn & { [VERIFY]?: true } = (token, key, options, done) => {
    const verify = options?.[VERIFY] as Verify | undefined;
    if (!verify) return jsonwebtoken(token, key, options, done);
    verify(token, key as KeyObject).then((payload) => done(null, payload), (error: unknown) => done(error));
  };
  dispatch[VERIFY] = true;
  Strategy.JwtVerifier = dispatch;
}

/** Assumed when the issuer does not advertise `access_token_signing_alg_values_supported`. */
const FALLBACK_ALGORITHMS = ['ES256', 'EdDSA', 'RS256'];

export class JwtAccessTokenPassportStrategy extends PassportStrategy(JwtStrategy, JWT_STRATEGY) {
  constructor(settings: TokenGuardSettings, discovery: DiscoveryClient, jwks: JwksKeyStore) {
    const algorithms = async () => pinnedAlgorithms((await discovery.get()).accessTokenSigningAlgorithms);
    const clock = new SystemClock();
    // The key provider has already checked typ, alg and kid and found this key.
    const verify: Verify = async (token, key) => {
      const { alg, kid } = decodeProtectedHeader(token);
      const verifier = new JwtAccessTokenVerifier({
        issuer: settings.issuer,
        audience: settings.audience,
        algorithms: [alg!],
        getKey: () => key,
        clock,
        clockToleranceSeconds: settings.clockToleranceSeconds,
      });
      return { ...(await verifier.verify(token)), kid: kid! };
    };
    const keyProvider: SecretOrKeyProvider = (_request, token: string, done) => {
      resolveVerificationKey(token, algorithms, jwks).then(
        (key) => done(null, key as unknown as Buffer), // jsonwebtoken takes a KeyObject; the typings only say string | Buffer.
        (error) => done(error),
      );
    };
    super({
      jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
      secretOrKeyProvider: keyProvider,
      // iss, aud, exp/nbf and the pinned algorithm are checked by `verify`, which these options route to.
      jsonWebTokenOptions: { [VERIFY]: verify } as object,
    });
  }

  /** passport-jwt hands over what the verifier returned: claims already checked against RFC 9068 §2.2. */
  validate(claims: AccessTokenClaims & { kid: string }): TokenRecord {
    return {
      token: {
        subject: claims.sub,
        clientId: claims.clientId,
        scopes: claims.scope,
        audience: claims.aud,
        issuer: claims.iss,
        expiresAt: new Date(claims.exp * 1000),
        jti: claims.jti,
        format: 'jwt',
      },
      issuedAt: claims.iat,
      grantId: claims.grantId ?? null,
      kid: claims.kid,
    };
  }
}

/** The algorithms to accept: what the issuer advertises (or the fallback), limited to what we can verify safely. */
export function pinnedAlgorithms(advertised: string[] | undefined): string[] {
  return (advertised ?? FALLBACK_ALGORITHMS).filter((alg) => (VERIFIABLE_ALGORITHMS as readonly string[]).includes(alg));
}

async function resolveVerificationKey(token: string, algorithms: () => Promise<string[]>, jwks: JwksKeyStore): Promise<VerificationKey['key']> {
  let header: ProtectedHeaderParameters;
  try {
    header = decodeProtectedHeader(token);
  } catch {
    throw OAuthError.invalidToken('malformed token');
  }
  if (!isAccessTokenType(header.typ)) throw OAuthError.invalidToken('token type is not at+jwt');
  if (typeof header.alg !== 'string' || !(await algorithms()).includes(header.alg)) {
    throw OAuthError.invalidToken('algorithm not allowed');
  }
  if (typeof header.kid !== 'string' || header.kid.length === 0) throw OAuthError.invalidToken('token has no kid');
  const found = await jwks.get(header.kid);
  if (!found || (found.alg !== undefined && found.alg !== header.alg)) throw OAuthError.invalidToken('unknown signing key');
  return found.key;
}

/** RFC 9068 §4: `typ` is `at+jwt` or `application/at+jwt`, compared case-insensitively. */
function isAccessTokenType(typ: unknown): boolean {
  return typeof typ === 'string' && typ.toLowerCase().replace(/^application\//, '') === 'at+jwt';
}
