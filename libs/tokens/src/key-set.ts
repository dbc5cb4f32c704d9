import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type JWK } from 'jose';
import {
  ChangeFeed,
  type AuditLog,
  Clock,
  SigningKeyRepository,
  type SigningAlgorithm,
  type SigningKeyRecord,
} from '@tessera/oauth-core';
import { decryptPrivateKey, encryptPrivateKey, KeyEncryptionKeys } from './key-encryption.js';

export interface KeySetOptions {
  /** Algorithm of keys this instance generates. */
  algorithm: SigningAlgorithm;
  /** The key-encryption keys: private keys are stored encrypted under the current one, in clear without one. */
  encryption?: KeyEncryptionKeys;
  /** Longest access-token lifetime: a retired key stays published this long. */
  maxTokenTtlSeconds: number;
  /** Told about a failed background reload (the current keys stay in use) or a failing listener. */
  logger?: (message: string, error: unknown) => void;
  /** Told about each rotation (the new key, the retired one). */
  audit?: AuditLog;
}

export interface SigningKey {
  kid: string;
  alg: SigningAlgorithm;
  key: CryptoKey;
}

export interface VerificationKey {
  alg: SigningAlgorithm;
  key: CryptoKey;
  /** When the key was retired, as a NumericDate (whole seconds): a token it signed with a later `iat` is forged. */
  retiredAt?: number;
}

interface PublishedKey extends VerificationKey {
  publicJwk: JWK;
  /** Null for the active key. */
  publishUntil: Date | null;
}

/**
 * The JWK member (RFC 7517 §4: members a recipient does not understand are ignored) by which the JWKS tells
 * verifiers when a published key was retired, as a NumericDate. A token signed with it and issued later is refused.
 */
export const RETIRED_AT_MEMBER = 'retired_at';

/**
 * How long a retired key stays published beyond the longest token lifetime: the clock tolerance of verifiers
 * (TokenGuard's default is 5 s) and the clock differences between instances, with room to spare.
 */
export const RETIRED_KEY_SKEW_SECONDS = 60;

/**
 * How long after its retirement a retired key's tokens are still taken as the auth server's (the JWKS's
 * `retired_at` is this much after the rotation). The instances that did not rotate keep signing with the old key
 * until the change feed has told them (milliseconds, or a second or two while their LISTEN connection is
 * replaced), and their clocks may run a little ahead of the rotating instance's: a token they signed then is
 * genuine. The old key's private half is destroyed at the rotation, so this widens nothing for a key that leaked
 * later; a key that may be compromised is rotated out with `revokeSigned`, which unpublishes it at once.
 */
export const RETIREMENT_GRACE_SECONDS = 10;

interface Loaded {
  signing: SigningKey;
  /** When the active key was created: a scheduled rotation is due `interval` after it. */
  signingCreatedAt: Date;
  published: Map<string, PublishedKey>;
}

/** The only JWK members a public key may carry in the JWKS (RFC 7517/7518/8037). */
const PUBLIC_MEMBERS = ['kty', 'crv', 'x', 'y', 'n', 'e', 'kid', 'alg', 'use'] as const;

const GENERATE_OPTIONS: Record<SigningAlgorithm, { crv?: string; modulusLength?: number }> = {
  ES256: {},
  EdDSA: { crv: 'Ed25519' },
  RS256: { modulusLength: 2048 },
};

/**
 * The signing keys, loaded once and kept as imported CryptoKeys so that
 * signing and verifying never touch the database. Reloads when the change feed
 * says the keys changed (a rotation elsewhere), and tells its listeners when a
 * reload changed what the JWKS publishes.
 */
export class KeySet {
  private loaded?: Loaded;
  /** Reloads run one after another, so a slow older reload never overwrites a newer one. */
  private reloads: Promise<void> = Promise.resolve();
  private unsubscribe?: () => void;
  private readonly listeners = new Set<(kids: string[]) => void>();

  constructor(
    private readonly repo: SigningKeyRepository,
    private readonly changes: ChangeFeed,
    private readonly clock: Clock,
    private readonly options: KeySetOptions,
  ) {}

  /** Loads the published keys, creating the first key when there is none. */
  async init(): Promise<void> {
    const records = await this.repo.listPublished(this.clock.now());
    if (!records.some((r) => r.status === 'active')) {
      await this.repo.insertFirst(await this.generate(this.options.algorithm));
    }
    // Reload either way: another instance may have inserted the first key concurrently.
    await this.reload();
    this.unsubscribe ??= this.changes.subscribe((event) => {
      if (event.kind !== 'signing-keys' && event.kind !== 'all') return;
      this.reload().catch((error: unknown) =>
        this.options.logger?.('reloading signing keys failed; keeping the current keys', error),
      );
    });
  }

  /**
   * Retires the active key (published until the last token it signed has expired, its private half destroyed, and
   * with its retirement time in the JWKS so that no verifier takes a later token of it) and activates a new one.
   * `revokeSigned`: the old key may be compromised; it is unpublished at once and every token it signed is revoked.
   */
  async rotate(algorithm: SigningAlgorithm = this.options.algorithm, options: { revokeSigned?: boolean } = {}): Promise<void> {
    const key = await this.generate(algorithm);
    const now = this.clock.now();
    // The key this rotation retires (the operator's CLI rotates without loading the keys first).
    const retiredKid = this.options.audit ? (this.loaded?.signing.kid ?? (await this.repo.listPublished(now)).find((r) => r.status === 'active')?.kid) : undefined;
    await this.repo.rotate(key, now, this.publishUntil(now), options);
    this.options.audit?.record({ event: 'key.rotated', kid: key.kid, algorithm, retiredKid, signedTokensRevoked: options.revokeSigned === true });
    await this.reload();
  }

  /**
   * Scheduled rotation: when the active key is `intervalSeconds` old, rotates as `rotate` does (same algorithm as
   * the active key), unless another process sharing the storage is rotating or already has (the repository checks
   * the newest key's age again in its transaction). Cheap when not due: no database round trip. True when this
   * call rotated.
   */
  async rotateIfDue(intervalSeconds: number): Promise<boolean> {
    const { signing, signingCreatedAt } = this.current();
    const now = this.clock.now();
    const dueAt = new Date(now.getTime() - intervalSeconds * 1000);
    if (signingCreatedAt > dueAt) return false;
    const key = await this.generate(signing.alg);
    const rotated = await this.repo.rotateIfDue(key, now, this.publishUntil(now), dueAt);
    if (rotated) this.options.audit?.record({ event: 'key.rotated', kid: key.kid, algorithm: signing.alg, retiredKid: signing.kid, signedTokensRevoked: false, scheduled: true });
    // Rotated here or elsewhere: either way the key loaded here is out of date (the change feed also says so).
    await this.reload();
    return rotated;
  }

  /**
   * Until when a key retired at `now` stays published: the last token it signed expires within the longest
   * access-token lifetime, and verifiers accept it for their clock tolerance beyond.
   */
  private publishUntil(now: Date): Date {
    return new Date(now.getTime() + (this.options.maxTokenTtlSeconds + RETIRED_KEY_SKEW_SECONDS) * 1000);
  }

  /**
   * Calls `listener` with the published kids (in JWKS order) after each reload that changed them or the active key:
   * a rotation here or one the change feed announced. By then `jwks()` serves the new set. Returns the unsubscribe.
   */
  onPublishedKeysChanged(listener: (kids: string[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  close(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
  }

  private get encryption(): KeyEncryptionKeys {
    return this.options.encryption ?? PLAINTEXT;
  }

  signingKey(): SigningKey {
    return this.current().signing;
  }

  verificationKey(kid: string): VerificationKey | undefined {
    const key = this.current().published.get(kid);
    if (!key || !this.isPublished(key)) return undefined;
    return { alg: key.alg, key: key.key, ...(key.retiredAt !== undefined && { retiredAt: key.retiredAt }) };
  }

  jwks(): { keys: JWK[] } {
    return {
      keys: this.publishedKeys().map((k) => ({ ...k.publicJwk, ...(k.retiredAt !== undefined && { [RETIRED_AT_MEMBER]: k.retiredAt }) })),
    };
  }

  algorithms(): SigningAlgorithm[] {
    return [...new Set(this.publishedKeys().map((k) => k.alg))];
  }

  /** The kids of `jwks()`, in its order. */
  publishedKids(): string[] {
    return [...this.current().published].filter(([, k]) => this.isPublished(k)).map(([kid]) => kid);
  }

  private current(): Loaded {
    if (!this.loaded) throw new Error('KeySet used before init()');
    return this.loaded;
  }

  private publishedKeys(): PublishedKey[] {
    return [...this.current().published.values()].filter((k) => this.isPublished(k));
  }

  /** Retired keys drop out at publishUntil even before the next reload. */
  private isPublished(key: PublishedKey): boolean {
    return key.publishUntil === null || key.publishUntil > this.clock.now();
  }

  private reload(): Promise<void> {
    const run = this.reloads.then(async () => {
      const next = await this.load(await this.repo.listPublished(this.clock.now()));
      const before = this.loaded && this.publishedState();
      this.loaded = next;
      // The first load changes nothing anyone was told about.
      if (before !== undefined && before !== this.publishedState()) this.announce();
    });
    this.reloads = run.catch(() => undefined);
    return run;
  }

  /** What listeners are told about: the active kid and the set of published kids. */
  private publishedState(): string {
    return JSON.stringify([this.current().signing.kid, this.publishedKids().sort()]);
  }

  /** A failing listener is logged; it neither fails the reload (nor a rotation) nor keeps the others from being told. */
  private announce(): void {
    const kids = this.publishedKids();
    for (const listener of this.listeners) {
      try {
        listener([...kids]);
      } catch (error) {
        this.options.logger?.('a published-keys listener failed', error);
      }
    }
  }

  private async load(records: SigningKeyRecord[]): Promise<Loaded> {
    const active = records.find((r) => r.status === 'active');
    if (!active) throw new Error('no active signing key in the repository');
    const published = new Map<string, PublishedKey>();
    for (const record of records) {
      const previous = this.loaded?.published.get(record.kid);
      const publicJwk = previous?.publicJwk ?? publicMembers(record.publicJwk);
      published.set(record.kid, {
        alg: record.alg,
        key: previous?.key ?? (await importKey(publicJwk, record.alg)),
        publicJwk,
        publishUntil: record.status === 'active' ? null : record.publishUntil,
        ...(record.status === 'retired' && record.retiredAt && { retiredAt: Math.floor(record.retiredAt.getTime() / 1000) + RETIREMENT_GRACE_SECONDS }),
      });
    }
    if (active.privateKey === null) throw new Error(`the active signing key ${active.kid} has no private key`);
    const signing =
      this.loaded?.signing.kid === active.kid
        ? this.loaded.signing
        : {
            kid: active.kid,
            alg: active.alg,
            key: await importKey(JSON.parse(decryptPrivateKey(active.privateKey, active.kid, this.encryption)), active.alg),
          };
    return { signing, signingCreatedAt: active.createdAt, published };
  }

  private async generate(alg: SigningAlgorithm): Promise<SigningKeyRecord> {
    const { publicKey, privateKey } = await generateKeyPair(alg, { ...GENERATE_OPTIONS[alg], extractable: true });
    const publicJwk = await exportJWK(publicKey);
    const kid = await calculateJwkThumbprint(publicJwk);
    const privateJwk = JSON.stringify({ ...(await exportJWK(privateKey)), kid, alg });
    return {
      kid,
      alg,
      publicJwk: { ...publicJwk, kid, alg, use: 'sig' },
      privateKey: encryptPrivateKey(privateJwk, kid, this.encryption),
      status: 'active',
      createdAt: this.clock.now(),
      retiredAt: null,
      publishUntil: null,
    };
  }
}

const PLAINTEXT = new KeyEncryptionKeys();

function publicMembers(jwk: Record<string, unknown>): JWK {
  const picked: Record<string, unknown> = {};
  for (const member of PUBLIC_MEMBERS) if (jwk[member] !== undefined) picked[member] = jwk[member];
  return Object.freeze(picked) as JWK;
}

async function importKey(jwk: JWK, alg: SigningAlgorithm): Promise<CryptoKey> {
  const key = await importJWK(jwk, alg);
  if (key instanceof Uint8Array) throw new Error(`signing key for ${alg} is not an asymmetric JWK`);
  return key;
}
