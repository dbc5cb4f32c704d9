import type { TokenGuardMetricsOptions } from './token-guard.metrics.js';

export interface IntrospectionCredentials {
  clientId: string;
  clientSecret: string;
}

/** What a resource server configures. Defaults are listed with each member. */
export interface TokenGuardOptions {
  /** The auth server's issuer identifier; metadata comes from `${issuer}/.well-known/oauth-authorization-server` (RFC 8414). */
  issuer: string;
  /** This resource's identifier (RFC 8707): a token's `aud` must contain it, whatever its format. */
  audience: string;
  /**
   * Credentials for the introspection endpoint (client_secret_basic). Without them opaque tokens are refused (401 invalid_token).
   * A function is called at each introspection, so credentials may arrive or change after start-up (self-registration);
   * while it returns undefined, opaque tokens get 503 temporarily_unavailable.
   */
  introspection?: IntrospectionCredentials | (() => IntrospectionCredentials | undefined);
  /** WWW-Authenticate realm; default: the audience. */
  realm?: string;
  /** Leeway for `exp`/`nbf`, in seconds; default 5. */
  clockToleranceSeconds?: number;
  /** Accept the RFC 6750 §2.3 `access_token` query parameter; default false (refused with 400 invalid_request). */
  allowQueryToken?: boolean;
  /** Introspection results: active ones for at most `ttlSeconds` (and never past the token's expiry), inactive ones for `inactiveTtlSeconds`. Defaults 60, 5, 10000. */
  introspectionCache?: { ttlSeconds?: number; inactiveTtlSeconds?: number; maxEntries?: number };
  /**
   * A token with an unknown `kid` waits for a JWKS fetch that starts after it arrived; such fetches are spaced at least
   * this many seconds apart (made-up kids cost the auth server no more than that). Default 1. Key changes announced on
   * the revocation feed are fetched at once.
   */
  jwksRefetchMinIntervalSeconds?: number;
  /**
   * Where this resource server reaches the auth server, when that differs from `issuer` (an internal address, or
   * one instance of several behind one issuer). Metadata endpoints that start with the issuer are rewritten to it.
   */
  authorizationServerUrl?: string;
  /** Following the auth server's revocation feed, so a revocation reaches this server within a second. */
  revocationFeed?: RevocationFeedOptions;
  /**
   * Prometheus metrics (accepted/rejected requests, cache hits and misses, revocation-feed lag) registered in a
   * prom-client `Registry` the app owns: `{ registry }`. prom-client is not a dependency of TokenGuard. The same
   * counts are always available from `TokenGuardStatus.metrics()`.
   */
  metrics?: TokenGuardMetricsOptions;
}

export interface RevocationFeedOptions {
  /** Default: follow when the metadata offers `revocation_feed_endpoint` and introspection credentials are set (the feed authenticates with them). */
  enabled?: boolean;
  /** Past this many seconds without hearing from the feed (events or heartbeats), `onStale` applies. Default 15. */
  maxStalenessSeconds?: number;
  /** `fail-closed` (default): 503 for every token. `introspect`: every token, JWTs too, is checked by introspection, uncached. */
  onStale?: 'fail-closed' | 'introspect';
}

/** The options with every default filled in, checked once at boot. */
export interface TokenGuardSettings {
  issuer: string;
  audience: string;
  /** The introspection credentials of the moment; absent when none are configured. */
  introspection?: () => IntrospectionCredentials | undefined;
  realm: string;
  clockToleranceSeconds: number;
  allowQueryToken: boolean;
  introspectionCache: { ttlSeconds: number; inactiveTtlSeconds: number; maxEntries: number };
  jwksRefetchMinIntervalSeconds: number;
  authorizationServerUrl: string;
  /** Null when the feed is off. */
  revocationFeed: { maxStalenessSeconds: number; onStale: 'fail-closed' | 'introspect' } | null;
  metrics: TokenGuardMetricsOptions | null;
}

export const TOKEN_GUARD_OPTIONS = Symbol('TOKEN_GUARD_OPTIONS');
export const TOKEN_GUARD_SETTINGS = Symbol('TOKEN_GUARD_SETTINGS');

/** Fills in the defaults; throws one error listing every bad option, so a misconfigured app does not start. */
export function resolveTokenGuardOptions(options: TokenGuardOptions): TokenGuardSettings {
  const cache = options.introspectionCache ?? {};
  const settings: TokenGuardSettings = {
    issuer: options.issuer,
    audience: options.audience,
    introspection: typeof options.introspection === 'function' ? options.introspection : credentialsOf(options.introspection),
    realm: options.realm ?? options.audience,
    clockToleranceSeconds: options.clockToleranceSeconds ?? 5,
    allowQueryToken: options.allowQueryToken ?? false,
    introspectionCache: {
      ttlSeconds: cache.ttlSeconds ?? 60,
      inactiveTtlSeconds: cache.inactiveTtlSeconds ?? 5,
      maxEntries: cache.maxEntries ?? 10_000,
    },
    jwksRefetchMinIntervalSeconds: options.jwksRefetchMinIntervalSeconds ?? 1,
    authorizationServerUrl: (options.authorizationServerUrl ?? options.issuer)?.replace(/\/$/, ''),
    revocationFeed:
      options.revocationFeed?.enabled === false || options.introspection === undefined
        ? null
        : { maxStalenessSeconds: options.revocationFeed?.maxStalenessSeconds ?? 15, onStale: options.revocationFeed?.onStale ?? 'fail-closed' },
    metrics: options.metrics ?? null,
  };
  const problems: string[] = [];
  if (typeof settings.issuer !== 'string' || !URL.canParse(settings.issuer)) problems.push('issuer must be an absolute URL');
  if (typeof settings.audience !== 'string' || settings.audience.length === 0) problems.push('audience must be a non-empty string');
  const fixed = options.introspection;
  if (fixed !== undefined && typeof fixed !== 'function' && !(typeof fixed.clientId === 'string' && fixed.clientId && typeof fixed.clientSecret === 'string' && fixed.clientSecret)) {
    problems.push('introspection needs a clientId and a clientSecret');
  }
  if (options.authorizationServerUrl !== undefined && !URL.canParse(options.authorizationServerUrl)) {
    problems.push('authorizationServerUrl must be an absolute URL');
  }
  if (options.revocationFeed?.enabled === true && options.introspection === undefined) {
    problems.push('revocationFeed needs introspection credentials (the feed authenticates with them)');
  }
  if (settings.revocationFeed && !['fail-closed', 'introspect'].includes(settings.revocationFeed.onStale)) {
    problems.push("revocationFeed.onStale must be 'fail-closed' or 'introspect'");
  }
  if (settings.revocationFeed && !(settings.revocationFeed.maxStalenessSeconds > 0)) {
    problems.push('revocationFeed.maxStalenessSeconds must be more than 0');
  }
  const seconds: [string, number][] = [
    ['clockToleranceSeconds', settings.clockToleranceSeconds],
    ['introspectionCache.ttlSeconds', settings.introspectionCache.ttlSeconds],
    ['introspectionCache.inactiveTtlSeconds', settings.introspectionCache.inactiveTtlSeconds],
    ['jwksRefetchMinIntervalSeconds', settings.jwksRefetchMinIntervalSeconds],
  ];
  for (const [name, value] of seconds) {
    if (!Number.isFinite(value) || value < 0) problems.push(`${name} must be a number of seconds, 0 or more`);
  }
  if (!Number.isInteger(settings.introspectionCache.maxEntries) || settings.introspectionCache.maxEntries < 1) {
    problems.push('introspectionCache.maxEntries must be a whole number, 1 or more');
  }
  if (settings.metrics && typeof (settings.metrics.registry as { registerMetric?: unknown } | undefined)?.registerMetric !== 'function') {
    problems.push('metrics.registry must be a prom-client Registry');
  }
  if (problems.length > 0) throw new Error(`TokenGuardModule: invalid options: ${problems.join('; ')}`);
  return settings;
}

function credentialsOf(fixed: IntrospectionCredentials | undefined): (() => IntrospectionCredentials) | undefined {
  return fixed && (() => fixed);
}
