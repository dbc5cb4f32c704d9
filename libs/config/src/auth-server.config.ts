import { isIP } from 'node:net';
import { availableParallelism } from 'node:os';
import { ConfigError, EnvReader } from './env-reader.js';
import { metricsConfig, type MetricsConfig } from './metrics.config.js';
import { readLoggingConfig, type LoggingConfig } from './logging.config.js';

export const SUPPORTED_GRANTS = ['client_credentials', 'authorization_code', 'refresh_token'] as const;
export type GrantType = (typeof SUPPORTED_GRANTS)[number];
export const SIGNING_ALGS = ['ES256', 'EdDSA', 'RS256'] as const;

export interface AuthServerConfig {
  database: { url: string };
  http: {
    host: string;
    port: number;
    bodyLimit: number;
    /**
     * The proxies whose X-Forwarded-For is believed (addresses, CIDR ranges, or
     * `loopback`, `linklocal`, `uniquelocal`), so that sign-in throttling sees
     * the browser's address rather than the proxy's. Empty: none.
     */
    trustedProxies: string[];
  };
  issuer: { url: string };
  /** GET /metrics (Prometheus): on `port` of its own bound to `host` (TESSERA_AUTH_METRICS_PORT), or on the app's port (null). */
  metrics: MetricsConfig;
  logging: LoggingConfig;
  tokens: {
    accessTokenTtl: number;
    maxAccessTokenTtl: number;
    signingAlgorithm: (typeof SIGNING_ALGS)[number];
    /**
     * TESSERA_KEY_ENCRYPTION_KEY (32 random bytes, base64url): private signing keys are stored encrypted under it,
     * and client-secret digests under a key derived from it. Unset only with `allowPlaintextKeys`.
     */
    keyEncryptionKey?: string;
    /** TESSERA_PREVIOUS_KEY_ENCRYPTION_KEY: still read (never written) while values move to the current one. */
    previousKeyEncryptionKey?: string;
    /** TESSERA_ALLOW_PLAINTEXT_KEYS=1: run without a key-encryption key, signing keys and secret digests in clear. */
    allowPlaintextKeys: boolean;
    /** TESSERA_CLIENT_SECRET_PEPPER, where it was set: the HMAC key of client-secret digests (default: built-in). */
    clientSecretPepper?: string;
    /** Seconds an authorization code stays redeemable. */
    authorizationCodeTtl: number;
    /** Access-token formats that resources (RFC 8707 audiences) require, overriding the client's. */
    resourceTokenFormats: Record<string, 'opaque' | 'jwt'>;
    /** Seconds each refresh token lives (rotation issues a new one). */
    refreshTokenTtl: number;
    /** Seconds a refresh-token family lives at most, counted from its first token: rotation never extends a token past it. */
    refreshTokenMaxLifetime: number;
    /**
     * TESSERA_KEY_ROTATION_INTERVAL: seconds after which the active signing key is replaced by a new one (one instance
     * of those sharing the database does it); 0: never (only `keys rotate`).
     */
    keyRotationInterval: number;
  };
  revocations: { purgeIntervalSeconds: number; heartbeatSeconds: number };
  /**
   * Requests allowed per fixed window on the token, introspection, revocation and registration endpoints, per
   * authenticated client and per address (0: no limit), shared by every instance through PostgreSQL. Null when
   * TESSERA_RATE_LIMITS=0.
   */
  rateLimits: {
    windowSeconds: number;
    /** How often an instance adds its counts to the shared ones (the bound on how stale its view of the others is). */
    flushIntervalMs: number;
    perClient: { token: number; introspection: number; revocation: number };
    perAddress: { token: number; introspection: number; revocation: number; registration: number };
  } | null;
  signIn: {
    /** Seconds a sign-in session lasts. */
    sessionTtl: number;
    /** Failed sign-ins allowed per account and per address within `windowSeconds`, after which attempts wait. */
    maxFailuresPerAccount: number;
    maxFailuresPerAddress: number;
    windowSeconds: number;
    /**
     * Password checks (scrypt: CPU-bound, 128 MiB each, on libuv's thread pool) running at once in
     * one process, and waiting for a turn; past both, a sign-in gets 503 with Retry-After.
     */
    maxConcurrentHashes: number;
    maxQueuedHashes: number;
  };
  consent: {
    /** What the consent page says each scope allows; a scope without one is shown by its name alone. */
    scopeDescriptions: Record<string, string>;
  };
  features: {
    grants: GrantType[];
    registration: { initialAccessToken: string } | null;
    scopesSupported: string[];
  };
}

/**
 * 90 days: quarterly, as Okta rotates its keys by default. A key that leaked unnoticed stops signing within a
 * quarter, and rotation runs often enough that a verifier which pinned a key fails early, not during an
 * emergency rotation; the cost is one more key in the JWKS for a day (the longest token lifetime) per quarter.
 */
export const DEFAULT_KEY_ROTATION_INTERVAL = 90 * 86400;

/** Reads and validates the auth server's configuration; throws one ConfigError listing every bad variable. */
export function loadAuthServerConfig(env: Record<string, string | undefined> = process.env): AuthServerConfig {
  const r = new EnvReader(env);
  const port = r.string('TESSERA_AUTH_PORT') !== undefined ? r.int('TESSERA_AUTH_PORT', 3000, 0, 65535) : r.int('PORT', 3000, 0, 65535);
  const databaseUrl = r.require('DATABASE_URL', r.url('DATABASE_URL', undefined, ['postgres:', 'postgresql:'], 'a PostgreSQL URL'), 'npm start sets it to the embedded database');
  const issuer = r.url('TESSERA_ISSUER', `http://localhost:${port}`, ['http:', 'https:']) ?? `http://localhost:${port}`;
  if (r.string('TESSERA_ISSUER') && (new URL(issuer).search || new URL(issuer).hash)) {
    r.problems.push('TESSERA_ISSUER: must have no query or fragment (RFC 8414 §2)');
  }
  const accessTokenTtl = r.int('TESSERA_ACCESS_TOKEN_TTL', 3600, 60, 86400);
  const maxAccessTokenTtl = r.int('TESSERA_MAX_ACCESS_TOKEN_TTL', 86400, 60, 31 * 86400);
  if (accessTokenTtl > maxAccessTokenTtl) r.problems.push('TESSERA_ACCESS_TOKEN_TTL: must not exceed TESSERA_MAX_ACCESS_TOKEN_TTL');
  const refreshTokenTtl = r.int('TESSERA_REFRESH_TOKEN_TTL', 30 * 86400, 60, 365 * 86400);
  const refreshTokenMaxLifetime = r.int('TESSERA_REFRESH_TOKEN_MAX_LIFETIME', 90 * 86400, 60, 10 * 365 * 86400);
  if (refreshTokenTtl > refreshTokenMaxLifetime) r.problems.push('TESSERA_REFRESH_TOKEN_TTL: must not exceed TESSERA_REFRESH_TOKEN_MAX_LIFETIME');
  const initialAccessToken = r.secret('TESSERA_INITIAL_ACCESS_TOKEN', 16);
  const keyRotationInterval = r.int('TESSERA_KEY_ROTATION_INTERVAL', DEFAULT_KEY_ROTATION_INTERVAL, 0, 10 * 365 * 86400);
  // A retired key stays published for the longest token lifetime: rotating more often would pile keys up in the JWKS.
  if (keyRotationInterval > 0 && keyRotationInterval < maxAccessTokenTtl) {
    r.problems.push('TESSERA_KEY_ROTATION_INTERVAL: must be 0 (never) or at least TESSERA_MAX_ACCESS_TOKEN_TTL');
  }
  const config: AuthServerConfig = {
    database: { url: databaseUrl },
    http: {
      host: r.string('TESSERA_HOST') ?? '127.0.0.1',
      port,
      bodyLimit: r.int('TESSERA_BODY_LIMIT', 64 * 1024, 1024, 10 * 1024 * 1024),
      trustedProxies: trustedProxies(r),
    },
    issuer: { url: issuer.replace(/\/$/, '') },
    metrics: metricsConfig(r, 'TESSERA_AUTH_METRICS_PORT', port),
    logging: readLoggingConfig(r),
    tokens: {
      accessTokenTtl,
      maxAccessTokenTtl,
      signingAlgorithm: r.oneOf('TESSERA_SIGNING_ALG', SIGNING_ALGS, 'ES256'),
      ...keyEncryption(r),
      clientSecretPepper: r.secret('TESSERA_CLIENT_SECRET_PEPPER', 16),
      authorizationCodeTtl: r.int('TESSERA_AUTHORIZATION_CODE_TTL', 60, 10, 600),
      resourceTokenFormats: resourceTokenFormats(r),
      refreshTokenTtl,
      refreshTokenMaxLifetime,
      keyRotationInterval,
    },
    revocations: {
      purgeIntervalSeconds: r.int('TESSERA_REVOCATION_PURGE_INTERVAL', 60, 1, 86400),
      heartbeatSeconds: r.seconds('TESSERA_REVOCATION_FEED_HEARTBEAT', 5, 0.1, 300),
    },
    rateLimits: rateLimits(r),
    signIn: {
      sessionTtl: r.int('TESSERA_SESSION_TTL', 8 * 3600, 60, 30 * 86400),
      maxFailuresPerAccount: r.int('TESSERA_SIGN_IN_MAX_FAILURES_PER_ACCOUNT', 10, 1, 10_000),
      maxFailuresPerAddress: r.int('TESSERA_SIGN_IN_MAX_FAILURES_PER_ADDRESS', 50, 1, 100_000),
      windowSeconds: r.int('TESSERA_SIGN_IN_THROTTLE_WINDOW', 15 * 60, 1, 86400),
      ...hashBounds(r, env),
    },
    consent: { scopeDescriptions: r.stringMap('TESSERA_SCOPE_DESCRIPTIONS') },
    features: {
      grants: r.list('TESSERA_GRANTS', SUPPORTED_GRANTS, [...SUPPORTED_GRANTS]),
      registration: initialAccessToken ? { initialAccessToken } : null,
      scopesSupported: r.list('TESSERA_SCOPES_SUPPORTED', null, []),
    },
  };
  if (r.problems.length > 0) throw new ConfigError(r.problems);
  return config;
}

const KEK_FORMAT = '32 random bytes in base64url, 43 characters; make one with: node -p "crypto.randomBytes(32).toString(\'base64url\')"';

/**
 * TESSERA_KEY_ENCRYPTION_KEY is required: a database read must not give away the signing keys. `npm start`
 * generates one for its embedded database; a deployment sets its own, or opts out with TESSERA_ALLOW_PLAINTEXT_KEYS=1.
 */
function keyEncryption(r: EnvReader): Pick<AuthServerConfig['tokens'], 'keyEncryptionKey' | 'previousKeyEncryptionKey' | 'allowPlaintextKeys'> {
  const allowPlaintextKeys = r.oneOf('TESSERA_ALLOW_PLAINTEXT_KEYS', ['0', '1'], '0') === '1';
  const current = r.string('TESSERA_KEY_ENCRYPTION_KEY');
  const isKek = (v: string) => /^[A-Za-z0-9_-]{43}$/.test(v) && Buffer.from(v, 'base64url').length === 32;
  let keyEncryptionKey: string | undefined;
  if (current === undefined) {
    if (!allowPlaintextKeys) {
      r.problems.push(
        `TESSERA_KEY_ENCRYPTION_KEY: required, private signing keys and client-secret hashes are encrypted with it (${KEK_FORMAT}); ` +
          'npm start generates one for its embedded database; TESSERA_ALLOW_PLAINTEXT_KEYS=1 stores them in clear instead',
      );
    }
  } else if (!isKek(current)) {
    r.problems.push(`TESSERA_KEY_ENCRYPTION_KEY: must be ${KEK_FORMAT}`);
  } else {
    keyEncryptionKey = current;
  }
  // The previous key may also be a passphrase of earlier versions (at least 32 characters), for their enc:v1 keys.
  const previousKeyEncryptionKey = r.secret('TESSERA_PREVIOUS_KEY_ENCRYPTION_KEY', 32);
  if (previousKeyEncryptionKey !== undefined && previousKeyEncryptionKey === current) {
    r.problems.push('TESSERA_PREVIOUS_KEY_ENCRYPTION_KEY: must differ from TESSERA_KEY_ENCRYPTION_KEY');
  }
  return { keyEncryptionKey, previousKeyEncryptionKey, allowPlaintextKeys };
}

/**
 * The default bound on password hashes running at once: one per CPU, and one thread fewer than
 * libuv's pool (UV_THREADPOOL_SIZE, 4 by default), which scrypt shares with the rest of the
 * process's asynchronous crypto, file and DNS work, so that work always finds a free thread.
 */
export function defaultConcurrentHashes(cpus: number, threadPoolSize: number): number {
  return Math.max(1, Math.min(cpus, threadPoolSize - 1));
}

function hashBounds(r: EnvReader, env: Record<string, string | undefined>): { maxConcurrentHashes: number; maxQueuedHashes: number } {
  const poolRaw = env.UV_THREADPOOL_SIZE;
  const pool = poolRaw !== undefined && /^\d+$/.test(poolRaw) && Number(poolRaw) >= 1 ? Math.min(Number(poolRaw), 1024) : 4;
  const fallback = defaultConcurrentHashes(availableParallelism(), pool);
  const maxConcurrentHashes = r.int('TESSERA_SIGN_IN_MAX_CONCURRENT_HASHES', fallback, 1, 256);
  return { maxConcurrentHashes, maxQueuedHashes: r.int('TESSERA_SIGN_IN_MAX_QUEUED_HASHES', maxConcurrentHashes, 0, 10_000) };
}

/**
 * TESSERA_RATE_LIMIT_*: requests per window. The defaults are far above what one well-behaved client or address
 * sends (a client caches its tokens; a resource server caches introspection results), and still stop a runaway
 * loop or a secret-guessing flood. Behind a proxy, set TESSERA_TRUST_PROXY, or every request counts against the
 * proxy's address.
 */
function rateLimits(r: EnvReader): AuthServerConfig['rateLimits'] {
  const enabled = r.oneOf('TESSERA_RATE_LIMITS', ['0', '1'], '1') === '1';
  const limit = (name: string, fallback: number) => r.int(`TESSERA_RATE_LIMIT_${name}`, fallback, 0, 100_000_000);
  const limits = {
    windowSeconds: r.int('TESSERA_RATE_LIMIT_WINDOW', 60, 1, 86400),
    flushIntervalMs: Math.round(r.seconds('TESSERA_RATE_LIMIT_FLUSH_INTERVAL', 0.05, 0.001, 3600) * 1000),
    perClient: {
      token: limit('TOKEN_PER_CLIENT', 6000),
      introspection: limit('INTROSPECTION_PER_CLIENT', 60_000),
      revocation: limit('REVOCATION_PER_CLIENT', 6000),
    },
    perAddress: {
      token: limit('TOKEN_PER_ADDRESS', 30_000),
      introspection: limit('INTROSPECTION_PER_ADDRESS', 120_000),
      revocation: limit('REVOCATION_PER_ADDRESS', 30_000),
      registration: limit('REGISTRATION_PER_ADDRESS', 600),
    },
  };
  return enabled ? limits : null;
}

const PROXY_NAMES = ['loopback', 'linklocal', 'uniquelocal'];

/** TESSERA_TRUST_PROXY: addresses or CIDR ranges (IPv4 or IPv6), or the names proxy-addr knows. */
function trustedProxies(r: EnvReader): string[] {
  const entries = r.list<string>('TESSERA_TRUST_PROXY', null, []);
  const bad = entries.filter((e) => {
    if (PROXY_NAMES.includes(e)) return false;
    const [address, bits, ...rest] = e.split('/');
    const version = isIP(address);
    const max = version === 4 ? 32 : 128;
    return version === 0 || rest.length > 0 || (bits !== undefined && !(/^\d{1,3}$/.test(bits) && Number(bits) <= max));
  });
  if (bad.length > 0) r.problems.push(`TESSERA_TRUST_PROXY: not an address, CIDR range or ${PROXY_NAMES.join('/')}: ${bad.join(', ')}`);
  return bad.length > 0 ? [] : entries;
}

/** TESSERA_RESOURCE_TOKEN_FORMATS: `{"https://api.example":"jwt"}`, absolute resource URIs to `opaque` or `jwt`. */
function resourceTokenFormats(r: EnvReader): Record<string, 'opaque' | 'jwt'> {
  const map = r.stringMap('TESSERA_RESOURCE_TOKEN_FORMATS');
  const bad = Object.entries(map).filter(([uri, format]) => !(URL.canParse(uri) && !uri.includes('#')) || (format !== 'opaque' && format !== 'jwt'));
  if (bad.length > 0) {
    r.problems.push(`TESSERA_RESOURCE_TOKEN_FORMATS: each key must be an absolute URI without a fragment and each value "opaque" or "jwt": ${bad.map(([k]) => k).join(', ')}`);
    return {};
  }
  return map as Record<string, 'opaque' | 'jwt'>;
}
