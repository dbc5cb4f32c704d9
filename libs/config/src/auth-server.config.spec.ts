import { ConfigError } from './env-reader.js';
import { availableParallelism } from 'node:os';
import { defaultConcurrentHashes, loadAuthServerConfig } from './auth-server.config.js';

const KEK = 'AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8'; // 32 bytes, base64url
const base = { DATABASE_URL: 'postgres://u:p@127.0.0.1:5432/db', TESSERA_KEY_ENCRYPTION_KEY: KEK };

describe('loadAuthServerConfig', () => {
  it('has defaults for everything but the database', () => {
    const c = loadAuthServerConfig(base);
    expect(c.http.port).toBe(3000);
    expect(c.issuer.url).toBe('http://localhost:3000');
    expect(c.logging).toEqual({ level: 'info', format: null });
    expect(c.tokens).toMatchObject({ accessTokenTtl: 3600, signingAlgorithm: 'ES256', authorizationCodeTtl: 60, refreshTokenTtl: 30 * 86400, refreshTokenMaxLifetime: 90 * 86400 });
    expect(c.features.grants).toEqual(['client_credentials', 'authorization_code', 'refresh_token']);
    expect(c.features.registration).toBeNull();
  });

  it('honours PORT when TESSERA_AUTH_PORT is unset', () => {
    expect(loadAuthServerConfig({ ...base, PORT: '8080' }).issuer.url).toBe('http://localhost:8080');
    expect(loadAuthServerConfig({ ...base, PORT: '8080', TESSERA_AUTH_PORT: '9000' }).http.port).toBe(9000);
  });

  it('lists every bad variable at once', () => {
    let error: unknown;
    try {
      loadAuthServerConfig({
        TESSERA_AUTH_PORT: 'abc',
        TESSERA_SIGNING_ALG: 'HS256',
        TESSERA_INITIAL_ACCESS_TOKEN: 'short',
        TESSERA_GRANTS: 'client_credentials,password',
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.map((p) => p.split(/[:=]/)[0]);
    expect(problems).toEqual(['TESSERA_AUTH_PORT', 'DATABASE_URL', 'TESSERA_INITIAL_ACCESS_TOKEN', 'TESSERA_SIGNING_ALG', 'TESSERA_KEY_ENCRYPTION_KEY', 'TESSERA_GRANTS']);
  });

  describe('key-encryption key', () => {
    const problemsOf = (env: Record<string, string>) => {
      try {
        loadAuthServerConfig(env);
        return [];
      } catch (e) {
        return (e as ConfigError).problems;
      }
    };

    it('is required with DATABASE_URL, listed with the other problems, unless TESSERA_ALLOW_PLAINTEXT_KEYS=1', () => {
      expect(problemsOf({ DATABASE_URL: base.DATABASE_URL, TESSERA_SIGNING_ALG: 'HS256' })).toEqual([
        'TESSERA_SIGNING_ALG="HS256": must be one of ES256, EdDSA, RS256',
        expect.stringMatching(/^TESSERA_KEY_ENCRYPTION_KEY: required, private signing keys and client-secret hashes are encrypted with it \(32 random bytes in base64url.*TESSERA_ALLOW_PLAINTEXT_KEYS=1 stores them in clear instead$/),
      ]);
      const plaintext = loadAuthServerConfig({ DATABASE_URL: base.DATABASE_URL, TESSERA_ALLOW_PLAINTEXT_KEYS: '1' });
      expect(plaintext.tokens).toMatchObject({ keyEncryptionKey: undefined, allowPlaintextKeys: true });
      expect(problemsOf({ DATABASE_URL: base.DATABASE_URL, TESSERA_ALLOW_PLAINTEXT_KEYS: 'yes' })).toEqual([
        'TESSERA_ALLOW_PLAINTEXT_KEYS="yes": must be one of 0, 1',
        expect.stringMatching(/^TESSERA_KEY_ENCRYPTION_KEY: required/),
      ]);
    });

    it('is 32 bytes in base64url', () => {
      expect(loadAuthServerConfig(base).tokens).toMatchObject({ keyEncryptionKey: KEK, allowPlaintextKeys: false });
      for (const bad of ['a-passphrase-of-at-least-32-characters!!', KEK.slice(1), `${KEK}=`, KEK.replace('A', '+'), `${KEK}AAAA`]) {
        expect(problemsOf({ ...base, TESSERA_KEY_ENCRYPTION_KEY: bad })).toEqual([expect.stringMatching(/^TESSERA_KEY_ENCRYPTION_KEY: must be 32 random bytes in base64url/)]);
      }
    });

    it('takes a previous key (or an earlier passphrase) that differs from the current one', () => {
      const previous = 'a-passphrase-of-at-least-32-characters!!';
      expect(loadAuthServerConfig({ ...base, TESSERA_PREVIOUS_KEY_ENCRYPTION_KEY: previous }).tokens.previousKeyEncryptionKey).toBe(previous);
      expect(problemsOf({ ...base, TESSERA_PREVIOUS_KEY_ENCRYPTION_KEY: KEK })).toEqual(['TESSERA_PREVIOUS_KEY_ENCRYPTION_KEY: must differ from TESSERA_KEY_ENCRYPTION_KEY']);
      expect(problemsOf({ ...base, TESSERA_PREVIOUS_KEY_ENCRYPTION_KEY: 'short' })).toEqual(['TESSERA_PREVIOUS_KEY_ENCRYPTION_KEY: must be at least 32 characters']);
    });
  });

  it('reads the sign-in policy and the scope descriptions', () => {
    const hashes = defaultConcurrentHashes(availableParallelism(), 4);
    expect(loadAuthServerConfig(base).signIn).toEqual({
      sessionTtl: 8 * 3600,
      maxFailuresPerAccount: 10,
      maxFailuresPerAddress: 50,
      windowSeconds: 900,
      maxConcurrentHashes: hashes,
      maxQueuedHashes: hashes,
    });
    expect(loadAuthServerConfig(base).consent.scopeDescriptions).toEqual({});
    const c = loadAuthServerConfig({ ...base, TESSERA_SIGN_IN_MAX_FAILURES_PER_ACCOUNT: '3', TESSERA_SCOPE_DESCRIPTIONS: '{"notes:read":"Read your notes"}' });
    expect(c.signIn.maxFailuresPerAccount).toBe(3);
    expect(c.consent.scopeDescriptions).toEqual({ 'notes:read': 'Read your notes' });
    for (const bad of ['[]', '{"a":1}', 'not json', 'null']) {
      expect(() => loadAuthServerConfig({ ...base, TESSERA_SCOPE_DESCRIPTIONS: bad })).toThrow(/TESSERA_SCOPE_DESCRIPTIONS: must be a JSON object of strings/);
    }
  });

  it('bounds the password hashes running at once by the CPUs and the thread pool, and the queue by as many', () => {
    expect([defaultConcurrentHashes(2, 4), defaultConcurrentHashes(16, 4), defaultConcurrentHashes(16, 64), defaultConcurrentHashes(1, 1)]).toEqual([2, 3, 16, 1]);
    const cpus = availableParallelism();
    expect(loadAuthServerConfig({ ...base, UV_THREADPOOL_SIZE: '2' }).signIn.maxConcurrentHashes).toBe(1);
    expect(loadAuthServerConfig({ ...base, UV_THREADPOOL_SIZE: '64' }).signIn.maxConcurrentHashes).toBe(Math.min(cpus, 63));
    const set = loadAuthServerConfig({ ...base, TESSERA_SIGN_IN_MAX_CONCURRENT_HASHES: '3', TESSERA_SIGN_IN_MAX_QUEUED_HASHES: '0' }).signIn;
    expect([set.maxConcurrentHashes, set.maxQueuedHashes]).toEqual([3, 0]);
    expect(loadAuthServerConfig({ ...base, TESSERA_SIGN_IN_MAX_CONCURRENT_HASHES: '5' }).signIn.maxQueuedHashes).toBe(5);
    expect(() => loadAuthServerConfig({ ...base, TESSERA_SIGN_IN_MAX_CONCURRENT_HASHES: '0', TESSERA_SIGN_IN_MAX_QUEUED_HASHES: '-1' })).toThrow(
      /TESSERA_SIGN_IN_MAX_CONCURRENT_HASHES="0": must be a whole number from 1 to 256[\s\S]*TESSERA_SIGN_IN_MAX_QUEUED_HASHES="-1"/,
    );
  });

  it('reads the proxies to trust for X-Forwarded-For, refusing what is not an address or range', () => {
    expect(loadAuthServerConfig(base).http.trustedProxies).toEqual([]);
    expect(loadAuthServerConfig({ ...base, TESSERA_TRUST_PROXY: 'loopback, 10.0.0.0/8,fd00::1/64 192.168.1.7' }).http.trustedProxies).toEqual([
      'loopback',
      '10.0.0.0/8',
      'fd00::1/64',
      '192.168.1.7',
    ]);
    for (const bad of ['true', '10.0.0.0/33', 'example.com', '10.0.0.1/8/1', '::1/129']) {
      expect(() => loadAuthServerConfig({ ...base, TESSERA_TRUST_PROXY: bad })).toThrow(/TESSERA_TRUST_PROXY: not an address/);
    }
  });

  it('reads the refresh-token family cap, which must be at least the lifetime of one refresh token', () => {
    const c = loadAuthServerConfig({ ...base, TESSERA_REFRESH_TOKEN_TTL: '86400', TESSERA_REFRESH_TOKEN_MAX_LIFETIME: '86400' });
    expect(c.tokens).toMatchObject({ refreshTokenTtl: 86400, refreshTokenMaxLifetime: 86400 });
    expect(() => loadAuthServerConfig({ ...base, TESSERA_REFRESH_TOKEN_MAX_LIFETIME: String(29 * 86400) })).toThrow(
      /TESSERA_REFRESH_TOKEN_TTL: must not exceed TESSERA_REFRESH_TOKEN_MAX_LIFETIME/,
    );
    for (const bad of ['59', String(10 * 365 * 86400 + 1), '90d']) {
      expect(() => loadAuthServerConfig({ ...base, TESSERA_REFRESH_TOKEN_MAX_LIFETIME: bad })).toThrow(/TESSERA_REFRESH_TOKEN_MAX_LIFETIME=.*whole number from 60 to 315360000/);
    }
  });

  it('rotates the signing key every 90 days by default, never with 0, and never more often than the longest token lifetime', () => {
    expect(loadAuthServerConfig(base).tokens.keyRotationInterval).toBe(90 * 86400);
    expect(loadAuthServerConfig({ ...base, TESSERA_KEY_ROTATION_INTERVAL: '0' }).tokens.keyRotationInterval).toBe(0);
    expect(loadAuthServerConfig({ ...base, TESSERA_KEY_ROTATION_INTERVAL: '600', TESSERA_MAX_ACCESS_TOKEN_TTL: '600', TESSERA_ACCESS_TOKEN_TTL: '600' }).tokens.keyRotationInterval).toBe(600);
    expect(() => loadAuthServerConfig({ ...base, TESSERA_KEY_ROTATION_INTERVAL: '3600' })).toThrow(
      /TESSERA_KEY_ROTATION_INTERVAL: must be 0 \(never\) or at least TESSERA_MAX_ACCESS_TOKEN_TTL/,
    );
    expect(() => loadAuthServerConfig({ ...base, TESSERA_KEY_ROTATION_INTERVAL: '30d' })).toThrow(/TESSERA_KEY_ROTATION_INTERVAL=.*whole number/);
  });

  it('reads the token formats resources require', () => {
    expect(loadAuthServerConfig(base).tokens.resourceTokenFormats).toEqual({});
    const c = loadAuthServerConfig({ ...base, TESSERA_RESOURCE_TOKEN_FORMATS: '{"https://api.example":"jwt","urn:x:reports":"opaque"}' });
    expect(c.tokens.resourceTokenFormats).toEqual({ 'https://api.example': 'jwt', 'urn:x:reports': 'opaque' });
    for (const bad of ['{"https://api.example":"JWT"}', '{"relative/path":"jwt"}', '{"https://a.example/#x":"opaque"}']) {
      expect(() => loadAuthServerConfig({ ...base, TESSERA_RESOURCE_TOKEN_FORMATS: bad })).toThrow(/TESSERA_RESOURCE_TOKEN_FORMATS: each key/);
    }
  });

  it('reads the revocation-feed heartbeat in seconds, fractions allowed', () => {
    expect(loadAuthServerConfig(base).revocations.heartbeatSeconds).toBe(5);
    expect(loadAuthServerConfig({ ...base, TESSERA_REVOCATION_FEED_HEARTBEAT: '0.25' }).revocations.heartbeatSeconds).toBe(0.25);
    for (const bad of ['0.05', '-1', '1e3', '.5', 'soon']) {
      expect(() => loadAuthServerConfig({ ...base, TESSERA_REVOCATION_FEED_HEARTBEAT: bad })).toThrow(ConfigError);
    }
  });

  it('reads the rate limits: on by default, each limit per window, 0 for none, TESSERA_RATE_LIMITS=0 for all off', () => {
    expect(loadAuthServerConfig(base).rateLimits).toEqual({
      windowSeconds: 60,
      flushIntervalMs: 50,
      perClient: { token: 6000, introspection: 60_000, revocation: 6000 },
      perAddress: { token: 30_000, introspection: 120_000, revocation: 30_000, registration: 600 },
    });
    const c = loadAuthServerConfig({
      ...base,
      TESSERA_RATE_LIMIT_WINDOW: '10',
      TESSERA_RATE_LIMIT_FLUSH_INTERVAL: '0.02',
      TESSERA_RATE_LIMIT_TOKEN_PER_CLIENT: '0',
      TESSERA_RATE_LIMIT_REGISTRATION_PER_ADDRESS: '5',
    }).rateLimits!;
    expect(c).toMatchObject({ windowSeconds: 10, flushIntervalMs: 20, perClient: { token: 0 }, perAddress: { registration: 5 } });
    expect(loadAuthServerConfig({ ...base, TESSERA_RATE_LIMITS: '0' }).rateLimits).toBeNull();
    expect(() => loadAuthServerConfig({ ...base, TESSERA_RATE_LIMITS: 'off', TESSERA_RATE_LIMIT_WINDOW: '0', TESSERA_RATE_LIMIT_INTROSPECTION_PER_CLIENT: '-1' })).toThrow(
      /TESSERA_RATE_LIMITS="off": must be one of 0, 1\n.*TESSERA_RATE_LIMIT_WINDOW="0".*\n.*TESSERA_RATE_LIMIT_INTROSPECTION_PER_CLIENT="-1"/,
    );
  });

  it('refuses an issuer with a query', () => {
    expect(() => loadAuthServerConfig({ ...base, TESSERA_ISSUER: 'https://as.example/?x=1' })).toThrow(/TESSERA_ISSUER/);
  });
});
