import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { OAuthError } from '@tessera/oauth-core';
import { fetchJson } from './fetch-json.js';

export interface VerificationKey {
  /** A Node KeyObject, which is what jsonwebtoken (under passport-jwt) verifies with. */
  key: KeyObject;
  /** The JWK's `alg`, when it names one. */
  alg?: string;
}

/**
 * The auth server's public keys by `kid`, converted once to KeyObjects. An
 * unknown kid refetches the JWKS, at most once per `minIntervalMs`; known keys
 * keep working while the auth server is unreachable.
 */
export class JwksKeyStore {
  private keys = new Map<string, VerificationKey>();
  private lastAttempt = -Infinity;
  private lastError?: unknown;
  private refetching?: Promise<void>;

  constructor(
    private readonly jwksUri: () => Promise<string>,
    private readonly minIntervalMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * The key for `kid`, or undefined when the JWKS has none. Throws
   * `temporarily_unavailable` when the kid is unknown and the last fetch failed:
   * then we cannot tell a forged token from one signed with a new key.
   */
  async get(kid: string): Promise<VerificationKey | undefined> {
    const known = this.keys.get(kid);
    if (known) return known;
    if (this.refetching) {
      await this.refetching;
    } else if (this.now() - this.lastAttempt >= this.minIntervalMs) {
      await (this.refetching = this.refetch().finally(() => (this.refetching = undefined)));
    }
    const found = this.keys.get(kid);
    if (!found && this.lastError !== undefined) {
      throw this.lastError instanceof OAuthError ? this.lastError : OAuthError.temporarilyUnavailable(this.lastError);
    }
    return found;
  }

  private async refetch(): Promise<void> {
    this.lastAttempt = this.now();
    try {
      this.keys = parseJwks(await fetchJson(await this.jwksUri(), { headers: { accept: 'application/json' } }));
      this.lastError = undefined;
    } catch (error) {
      this.lastError = error;
    }
  }
}

/** The signing keys of a JWKS (RFC 7517) by kid; keys without a kid, for another use, or that do not import are skipped. */
function parseJwks(body: unknown): Map<string, VerificationKey> {
  const keys = (body as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys)) throw OAuthError.temporarilyUnavailable(new Error('the JWKS has no keys array'));
  const parsed = new Map<string, VerificationKey>();
  for (const jwk of keys as (JsonWebKey & { kid?: unknown; use?: unknown; alg?: unknown })[]) {
    if (typeof jwk?.kid !== 'string' || (jwk.use !== undefined && jwk.use !== 'sig')) continue;
    try {
      parsed.set(jwk.kid, { key: createPublicKey({ key: jwk, format: 'jwk' }), alg: typeof jwk.alg === 'string' ? jwk.alg : undefined });
    } catch {
      // Not a public key Node can import: it cannot verify anything.
    }
  }
  return parsed;
}
