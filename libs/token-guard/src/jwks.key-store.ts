import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { OAuthError } from '@tessera/oauth-core';
import { RETIRED_AT_MEMBER } from '@tessera/tokens';
import { fetchJson } from './fetch-json.js';

export interface VerificationKey {
  key: KeyObject;
  /** The JWK's `alg`, when it names one. */
  alg?: string;
  /** When the auth server retired the key (Tessera's `retired_at` JWK member, a NumericDate), if it did. */
  retiredAt?: number;
}

interface Fetch {
  /** Fetches are numbered from 1 in the order they start. */
  seq: number;
  done: Promise<void>;
}

interface NextFetch {
  done: Promise<void>;
  resolve: () => void;
  /** Skips the wait between fetches: the auth server said its keys changed. */
  urgent: boolean;
  wake?: () => void;
}

/** How many unpublished kids are remembered. */
const MAX_RETIRED = 1000;

/**
 * The auth server's public keys by `kid`, converted once to KeyObjects. Known
 * keys keep working while the auth server is unreachable.
 *
 * Fetches run one at a time. A token with an unknown kid waits for a fetch
 * that started after it arrived (sharing it with every other such token), so
 * it is never refused for want of a fetch: fetches it causes are spaced
 * `minIntervalMs` apart, which bounds what a stream of made-up kids costs the
 * auth server without starving a genuine new key. `refreshNow` (the revocation
 * feed saying the keys changed) skips that spacing.
 */
export class JwksKeyStore {
  private keys = new Map<string, VerificationKey>();
  /** Kids a fetch found gone (a key retired or rotated out): refused at once, no fetch waited for. */
  private readonly retired = new Set<string>();
  private lastStart = -Infinity;
  /** How many fetches have started, and the number of the last one that has finished. */
  private started = 0;
  private finished = 0;
  private lastError?: unknown;
  private running?: Fetch;
  private next?: NextFetch;
  /** Called after each successful fetch (the guard drops cached tokens a newly retired key signed too late). */
  onKeysFetched?: () => void;

  constructor(
    private readonly jwksUri: () => Promise<string>,
    private readonly minIntervalMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * The key for `kid` if it may verify `alg`, else undefined. Throws
   * `temporarily_unavailable` when the kid is unknown and the last fetch
   * failed: then a forged token cannot be told from one signed with a new key.
   */
  async get(kid: string, alg: string): Promise<KeyObject | undefined> {
    let found = this.keys.get(kid);
    if (!found && !this.retired.has(kid)) {
      const arrival = this.started;
      // A fetch under way may already bring it (one the feed asked for, say).
      if (this.running) await this.running.done;
      found = this.keys.get(kid);
      if (!found) {
        await this.fetchStartedAfter(arrival, false);
        found = this.keys.get(kid);
      }
      if (!found && this.lastError !== undefined) {
        throw this.lastError instanceof OAuthError ? this.lastError : OAuthError.temporarilyUnavailable(this.lastError);
      }
    }
    return found && verifies(found, alg) ? found.key : undefined;
  }

  /**
   * When the key `kid` was retired, as the last fetched JWKS says: a token it signed with a later `iat` was not
   * signed by the auth server (a retired key never signs again).
   */
  retiredAt(kid: string): number | undefined {
    return this.keys.get(kid)?.retiredAt;
  }

  /** Fetches the JWKS now (or right after the fetch under way), without the spacing; resolves when done. */
  refreshNow(): Promise<void> {
    return this.fetchStartedAfter(this.started, true);
  }

  /** How many keys are known. */
  get size(): number {
    return this.keys.size;
  }

  /** Resolves once a fetch numbered above `seq` has finished, starting one if none has. */
  private fetchStartedAfter(seq: number, urgent: boolean): Promise<void> {
    if (this.finished > seq) return Promise.resolve();
    if (this.running && this.running.seq > seq) return this.running.done;
    if (this.next) {
      if (urgent && !this.next.urgent) {
        this.next.urgent = true;
        this.next.wake?.();
      }
      return this.next.done;
    }
    let resolve!: () => void;
    const next: NextFetch = { done: new Promise<void>((r) => (resolve = r)), resolve, urgent };
    this.next = next;
    void this.launch(next);
    return next.done;
  }

  private async launch(next: NextFetch): Promise<void> {
    if (this.running) await this.running.done;
    const wait = this.lastStart + this.minIntervalMs - this.now();
    if (!next.urgent && wait > 0) {
      await new Promise<void>((resolve) => {
        next.wake = resolve;
        setTimeout(resolve, wait).unref();
      });
    }
    this.next = undefined;
    this.lastStart = this.now();
    const fetch: Fetch = { seq: ++this.started, done: this.fetchOnce() };
    this.running = fetch;
    await fetch.done;
    this.finished = fetch.seq;
    this.running = undefined;
    next.resolve();
  }

  private async fetchOnce(): Promise<void> {
    try {
      const keys = parseJwks(await fetchJson(await this.jwksUri(), { headers: { accept: 'application/json' } }));
      for (const kid of this.keys.keys()) if (!keys.has(kid)) this.retired.add(kid);
      for (const kid of keys.keys()) this.retired.delete(kid);
      for (const kid of this.retired) if (this.retired.size > MAX_RETIRED) this.retired.delete(kid);
      this.keys = keys;
      this.lastError = undefined;
    } catch (error) {
      this.lastError = error;
      return;
    }
    this.onKeysFetched?.();
  }
}

/**
 * The signing keys of a JWKS (RFC 7517) by kid. Skipped: keys without a kid, for another use, that do not import
 * as an asymmetric public key, and private keys (published by mistake: anyone could sign with them).
 */
export function parseJwks(body: unknown): Map<string, VerificationKey> {
  const keys = (body as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys)) throw OAuthError.temporarilyUnavailable(new Error('the JWKS has no keys array'));
  const parsed = new Map<string, VerificationKey>();
  for (const jwk of keys as (JsonWebKey & { kid?: unknown; use?: unknown; alg?: unknown })[]) {
    if (typeof jwk?.kid !== 'string' || (jwk.use !== undefined && jwk.use !== 'sig') || jwk.d !== undefined) continue;
    try {
      const key = createPublicKey({ key: jwk, format: 'jwk' });
      const retiredAt = (jwk as Record<string, unknown>)[RETIRED_AT_MEMBER];
      parsed.set(jwk.kid, {
        key,
        alg: typeof jwk.alg === 'string' ? jwk.alg : undefined,
        ...(typeof retiredAt === 'number' && Number.isFinite(retiredAt) && { retiredAt }),
      });
    } catch {
      // Not a public key Node can import: it cannot verify anything.
    }
  }
  return parsed;
}

const CURVE_ALGORITHMS: Record<string, string> = { prime256v1: 'ES256', secp384r1: 'ES384', secp521r1: 'ES512' };

/**
 * Whether a key may verify `alg`: the JWK's own `alg` when it names one (RFC 7517 §4.4), else
 * what its type allows. This, and not the metadata, decides: the JWKS is the auth server's
 * current word, so a key of a new algorithm is usable as soon as it is fetched.
 */
export function verifies({ key, alg: pinned }: VerificationKey, alg: string): boolean {
  if (pinned !== undefined) return pinned === alg;
  switch (key.asymmetricKeyType) {
    case 'ec':
      return CURVE_ALGORITHMS[key.asymmetricKeyDetails?.namedCurve ?? ''] === alg;
    case 'ed25519':
    case 'ed448':
      return alg === 'EdDSA';
    case 'rsa':
      return /^(RS|PS)(256|384|512)$/.test(alg);
    default:
      return false;
  }
}
