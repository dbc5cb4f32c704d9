// Rate limits shared by every instance, without a database round trip per request.
//
// Each instance decides from memory: the count of every instance as of its last flush of the key, plus the hits
// it admitted since. Every `flushIntervalMs` it adds its new hits to the shared counts in one statement, which
// returns each key's total (everyone's hits), the next decisions' base. Requests never wait for the store, and
// when it is unreachable the limiter keeps deciding from what it knows (the hits stay pending for the next flush):
// it never fails a request.
//
// The price is a bounded overshoot. An instance does not see another's hits on a key until it flushes that key
// itself: at most one flush interval plus one round trip after it first admits the key in a window. Across N
// instances a key gets at most `limit` plus what the other N-1 instances admit for it in that time, and never more
// than N x `limit` in one window. Windows are fixed (aligned to multiples of the window length), so a caller can
// also fit up to 2 x `limit` around a window boundary.
//
// Memory is bounded: each map holds at most `maxKeys` keys, however many addresses a caller sprays from (an IPv6
// caller has a /64 per home, a provider's worth of them elsewhere). Past the bound, the keys seen once go first,
// then the oldest: a key that keeps hitting is kept, and one forgotten from the shared view is learnt again from
// the store at its next flush.
import { OAuthError } from '../errors/oauth-error.js';
import type { Clock } from '../ports/clock.port.js';
import type { RateLimitRepository } from '../ports/rate-limit.repository.js';
import { describeFailureSummary, FailureSummary } from '../failures/failure-summary.js';

export type RateLimitDecision = { allowed: true } | { allowed: false; retryAfterSeconds: number };

export interface RateLimiterOptions {
  windowSeconds: number;
  /** How often this instance adds its hits to the shared counts (and learns the others'). */
  flushIntervalMs: number;
  /**
   * Told of failed flushes, summarised (FailureSummary): the first in full (with its error), then how many more
   * once per `failureLogIntervalMs` (with the latest error), then the recovery (error undefined).
   */
  logger?: (message: string, error: unknown) => void;
  /** At most one count line per this many milliseconds while flushes fail; default 10 s. */
  failureLogIntervalMs?: number;
  /** Told of each flush (for metrics); called where it happens, never on the request path. */
  observer?: Pick<RateLimitObserver, 'flushed'>;
  /** The most keys each of this instance's maps holds (default `DEFAULT_MAX_RATE_LIMIT_KEYS`). */
  maxKeys?: number;
}

/** What a metrics collector hears of the limits: requests refused, flushes done. Both optional, both cheap. */
export interface RateLimitObserver {
  /** A request refused (429) over the limit of `endpoint`, per client or per address. */
  limited?(endpoint: RateLimitedEndpoint, limit: 'client' | 'address'): void;
  /** A flush ended: how many keys it sent, and whether the store took them. */
  flushed?(keys: number, ok: boolean): void;
}

/** 100,000 keys: some tens of MB at most, far more distinct callers than one instance sees in a window. */
export const DEFAULT_MAX_RATE_LIMIT_KEYS = 100_000;

export class RateLimiter {
  private readonly windowMs: number;
  private readonly maxKeys: number;
  private windowStart = Number.NEGATIVE_INFINITY;
  /** Every instance's hits per key in this window, as the store last returned them. */
  private shared = new Map<string, number>();
  /** Hits of the flush under way. */
  private sending = new Map<string, number>();
  /** Hits admitted here since the last flush began. */
  private pending = new Map<string, number>();
  private inFlight: Promise<void> | null = null;
  private purging: Promise<void> = Promise.resolve();
  private timer: ReturnType<typeof setInterval> | undefined;
  private readonly failures: FailureSummary;
  /** The error of the latest failed flush, for the summary's lines. */
  private lastError: unknown;

  constructor(
    private readonly store: RateLimitRepository,
    private readonly clock: Clock,
    private readonly options: RateLimiterOptions,
  ) {
    this.windowMs = options.windowSeconds * 1000;
    this.maxKeys = Math.max(2, options.maxKeys ?? DEFAULT_MAX_RATE_LIMIT_KEYS);
    const logger = options.logger;
    this.failures = new FailureSummary(
      (line) => {
        if (!logger) return;
        if (line.kind === 'first') logger('rate-limit counts could not be shared; limiting from this instance’s counts meanwhile', this.lastError);
        else if (line.kind === 'repeated') logger(describeFailureSummary('rate-limit counts not shared', line), this.lastError);
        else logger(describeFailureSummary('rate-limit counts are shared again', line), undefined);
      },
      { intervalMs: options.failureLogIntervalMs ?? 10_000, now: () => clock.now().getTime() },
    );
  }

  /** Whether the latest flush failed: this instance limits from its own counts until one succeeds. */
  get sharingFailed(): boolean {
    return this.failures.failing;
  }

  /** Hits admitted here that the shared counts do not hold yet (a flush under way, or failing). Read at scrape time. */
  get unsharedHits(): number {
    let n = 0;
    for (const v of this.sending.values()) n += v;
    for (const v of this.pending.values()) n += v;
    return n;
  }

  /** How many keys this instance holds in memory (the largest of its maps). */
  get trackedKeys(): number {
    return Math.max(this.shared.size, this.sending.size, this.pending.size);
  }

  /** Flushes every `flushIntervalMs` until `close()`. */
  start(): this {
    this.timer ??= setInterval(() => {
      if (!this.inFlight) void this.flush();
    }, this.options.flushIntervalMs);
    this.timer.unref?.();
    return this;
  }

  close(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.failures.close();
  }

  /** Counts one request under `key` if it is within `limit` in the current window; otherwise counts nothing. */
  hit(key: string, limit: number): RateLimitDecision {
    const now = this.clock.now().getTime();
    this.roll(now);
    const used = (this.shared.get(key) ?? 0) + (this.sending.get(key) ?? 0) + (this.pending.get(key) ?? 0);
    if (used >= limit) {
      return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((this.windowStart + this.windowMs - now) / 1000)) };
    }
    const pending = this.pending.get(key);
    if (pending === undefined) bound(this.pending, this.maxKeys);
    this.pending.set(key, (pending ?? 0) + 1);
    return { allowed: true };
  }

  /**
   * Adds the pending hits to the shared counts and takes back the totals, once the purge of older windows (if one
   * runs) is done; resolves once done, and never rejects.
   */
  async flush(): Promise<void> {
    await this.purging;
    while (this.inFlight) await this.inFlight;
    this.roll(this.clock.now().getTime());
    if (this.pending.size === 0) return;
    this.inFlight = this.send();
    try {
      await this.inFlight;
    } finally {
      this.inFlight = null;
    }
  }

  private async send(): Promise<void> {
    const windowStart = this.windowStart;
    const batch = this.pending;
    this.pending = new Map();
    this.sending = batch;
    try {
      const totals = await this.store.add(new Date(windowStart), batch);
      if (this.windowStart === windowStart) {
        // Re-inserted, so that the map's order is the order of last use (what `bound` forgets first).
        for (const [key, count] of totals) {
          this.shared.delete(key);
          this.shared.set(key, count);
        }
        bound(this.shared, this.maxKeys);
      }
      this.failures.success();
      this.options.observer?.flushed?.(batch.size, true);
    } catch (error) {
      // Fail open: keep deciding from this instance's counts, and send these hits with the next flush.
      if (this.windowStart === windowStart) {
        for (const [key, n] of batch) this.pending.set(key, (this.pending.get(key) ?? 0) + n);
        bound(this.pending, this.maxKeys);
      }
      this.lastError = error;
      this.failures.failure(failureMessage(error));
      this.options.observer?.flushed?.(batch.size, false);
    } finally {
      if (this.windowStart === windowStart) this.sending = new Map();
    }
  }

  /** Starts a new window when the clock has passed the current one, and deletes the older windows' counts. */
  private roll(now: number): void {
    const start = Math.floor(now / this.windowMs) * this.windowMs;
    if (start <= this.windowStart) return;
    const first = this.windowStart === Number.NEGATIVE_INFINITY;
    this.windowStart = start;
    this.shared = new Map();
    this.sending = new Map();
    this.pending = new Map();
    if (!first) {
      this.purging = this.store.purgeBefore(new Date(start)).then(
        () => undefined,
        () => undefined, // retried at the next window's start, by this instance or another
      );
    }
  }
}

/** What a failed flush says in the log: the driver's message under an adapter's `temporarily_unavailable`, when there is one. */
function failureMessage(error: unknown): string {
  // Duck-typed: a driver's error may come from another realm (Node's own, under a test runner's VM context).
  const messageOf = (e: unknown) => (typeof e === 'object' && e !== null && typeof (e as Error).message === 'string' ? (e as Error).message : undefined);
  const cause = typeof error === 'object' && error !== null ? (error as { cause?: unknown }).cause : undefined;
  return messageOf(cause) ?? messageOf(error) ?? String(error);
}

/**
 * Keeps `counts` under `maxKeys` (making room for one more key): when full, the keys counted once go, then the
 * oldest, down to half the bound, so that the work is done once per `maxKeys / 2` new keys, not per key.
 */
function bound(counts: Map<string, number>, maxKeys: number): void {
  if (counts.size < maxKeys) return;
  for (const [key, n] of counts) if (n <= 1) counts.delete(key);
  const target = Math.floor(maxKeys / 2);
  for (const key of counts.keys()) {
    if (counts.size <= target) break;
    counts.delete(key);
  }
}

/** The endpoint groups that have limits of their own. */
export type RateLimitedEndpoint = 'token' | 'introspection' | 'revocation' | 'registration';

/** Requests allowed per window, per endpoint group; 0 or absent: no limit. */
export interface RateLimits {
  /** Per authenticated client (a client that proved its identity with its secret). */
  perClient: Partial<Record<RateLimitedEndpoint, number>>;
  /** Per client address (every request, authenticated or not). */
  perAddress: Partial<Record<RateLimitedEndpoint, number>>;
}

/** The limits of each endpoint group, per client and per address; throws too_many_requests past one. */
export class RequestRateLimits {
  constructor(
    private readonly limiter: RateLimiter,
    private readonly limits: RateLimits,
    private readonly observer?: Pick<RateLimitObserver, 'limited'>,
  ) {}

  /** Counts a request from `address` (by `addressKey`); call before anything else is done with it. */
  checkAddress(endpoint: RateLimitedEndpoint, address: string): void {
    this.check(endpoint, this.limits.perAddress[endpoint], `${endpoint}:address:${addressKey(address)}`, 'address');
  }

  /** Counts a request of a client that authenticated (never one that only named its client_id). */
  checkClient(endpoint: RateLimitedEndpoint, clientId: string): void {
    this.check(endpoint, this.limits.perClient[endpoint], `${endpoint}:client:${clientId}`, 'client');
  }

  private check(endpoint: RateLimitedEndpoint, limit: number | undefined, key: string, whose: 'client' | 'address'): void {
    if (!limit) return;
    const decision = this.limiter.hit(key, limit);
    if (decision.allowed) return;
    this.observer?.limited?.(endpoint, whose);
    throw OAuthError.tooManyRequests(whose, decision.retryAfterSeconds);
  }
}

/**
 * What a per-address limit counts by: an IPv4 address as it is (also when written IPv4-mapped, `::ffff:a.b.c.d`),
 * an IPv6 address by its /64, since one host or home usually gets a whole /64 and can change addresses within it
 * at will.
 */
export function addressKey(address: string): string {
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  if (mapped) return mapped[1];
  if (!address.includes(':')) return address;
  const ip = address.split('%')[0].toLowerCase();
  const [head, tail] = ip.split('::');
  const first = head ? head.split(':') : [];
  const last = tail === undefined ? [] : tail ? tail.split(':') : [];
  const groups = tail === undefined ? first : [...first, ...Array(Math.max(0, 8 - first.length - last.length)).fill('0'), ...last];
  return `${groups
    .slice(0, 4)
    .map((g) => (/^[0-9a-f]{1,4}$/.test(g) ? parseInt(g, 16).toString(16) : g))
    .join(':')}::/64`;
}
