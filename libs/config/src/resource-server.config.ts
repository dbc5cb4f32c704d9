import { ConfigError, EnvReader } from './env-reader.js';
import { metricsConfig, type MetricsConfig } from './metrics.config.js';
import { readLoggingConfig, type LoggingConfig } from './logging.config.js';

export interface ResourceServerConfig {
  /** Its own database (notes, and the credentials it registered): never the auth server's. */
  database: { url: string };
  http: { host: string; port: number };
  /** GET /metrics (Prometheus): on `port` of its own bound to `host` (TESSERA_RESOURCE_METRICS_PORT), or on the app's port (null). */
  metrics: MetricsConfig;
  logging: LoggingConfig;
  /** The authorization server whose tokens it accepts (`iss`), also the base of its endpoints. */
  issuer: { url: string };
  /**
   * Where this server reaches the authorization server when that is not at the
   * issuer (an internal address, or one instance of several behind one issuer);
   * null: at the issuer.
   */
  authorizationServer: { url: string | null };
  /** Its resource identifier (RFC 8707): the audience a token must name. */
  resource: { url: string };
  /**
   * Credentials for token introspection (RFC 7662), in order of preference:
   * `credentials` from the environment; else self-registration with
   * `initialAccessToken` (RFC 7591); else none (JWTs only).
   */
  introspection: {
    credentials: { clientId: string; clientSecret: string } | null;
    initialAccessToken: string | null;
  };
  /**
   * Following the auth server's revocation feed, so revoked JWTs and cached
   * opaque tokens are refused at once. `enabled: false` turns it off; when true,
   * TokenGuard follows whenever the metadata advertises a feed and introspection
   * credentials exist.
   */
  revocationFeed: { enabled: boolean; maxStalenessSeconds: number; onStale: RevocationOnStale };
}

export const REVOCATION_ON_STALE = ['fail-closed', 'introspect'] as const;
export type RevocationOnStale = (typeof REVOCATION_ON_STALE)[number];

/** Reads and validates the resource server's configuration; throws one ConfigError listing every bad variable. */
export function loadResourceServerConfig(env: Record<string, string | undefined> = process.env): ResourceServerConfig {
  const r = new EnvReader(env);
  const port = r.int('TESSERA_RESOURCE_PORT', 3001, 0, 65535);
  const databaseUrl = r.url('TESSERA_RESOURCE_DATABASE_URL', undefined, ['postgres:', 'postgresql:'], 'a PostgreSQL URL');
  if (r.string('TESSERA_RESOURCE_DATABASE_URL') === undefined) {
    r.require('TESSERA_RESOURCE_DATABASE_URL', undefined, 'the resource server keeps its notes in a database of its own; npm start creates one');
  }
  const issuer = r.url('TESSERA_ISSUER', 'http://localhost:3000', ['http:', 'https:']) ?? 'http://localhost:3000';
  if (r.string('TESSERA_ISSUER') && (new URL(issuer).search || new URL(issuer).hash)) {
    r.problems.push('TESSERA_ISSUER: must have no query or fragment (RFC 8414 §2)');
  }
  const resource = r.url('TESSERA_RESOURCE_URL', `http://localhost:${port}`, ['http:', 'https:']) ?? `http://localhost:${port}`;
  if (r.string('TESSERA_RESOURCE_URL') && new URL(resource).hash) {
    r.problems.push('TESSERA_RESOURCE_URL: must have no fragment (RFC 8707 §2)');
  }
  const authorizationServer = r.url('TESSERA_AUTH_SERVER_URL', undefined, ['http:', 'https:']);
  if (authorizationServer && (new URL(authorizationServer).search || new URL(authorizationServer).hash)) {
    r.problems.push('TESSERA_AUTH_SERVER_URL: must have no query or fragment (endpoint paths are appended to it)');
  }
  const clientId = r.string('TESSERA_RESOURCE_CLIENT_ID');
  const clientSecret = r.string('TESSERA_RESOURCE_CLIENT_SECRET');
  if ((clientId === undefined) !== (clientSecret === undefined)) {
    r.problems.push(
      clientId === undefined
        ? 'TESSERA_RESOURCE_CLIENT_ID: required when TESSERA_RESOURCE_CLIENT_SECRET is set'
        : 'TESSERA_RESOURCE_CLIENT_SECRET: required when TESSERA_RESOURCE_CLIENT_ID is set',
    );
  }
  const initialAccessToken = r.secret('TESSERA_INITIAL_ACCESS_TOKEN', 16);
  const feed = r.oneOf('TESSERA_REVOCATION_FEED', ['on', 'off'] as const, 'on');
  const maxStalenessSeconds = r.int('TESSERA_REVOCATION_MAX_STALENESS', 15, 1, 86_400);
  const onStale = r.oneOf('TESSERA_REVOCATION_ON_STALE', REVOCATION_ON_STALE, 'fail-closed');
  const config: ResourceServerConfig = {
    database: { url: databaseUrl! },
    http: { host: r.string('TESSERA_HOST') ?? '127.0.0.1', port },
    metrics: metricsConfig(r, 'TESSERA_RESOURCE_METRICS_PORT', port),
    logging: readLoggingConfig(r),
    issuer: { url: issuer.replace(/\/$/, '') },
    authorizationServer: { url: authorizationServer?.replace(/\/$/, '') ?? null },
    resource: { url: resource },
    introspection: {
      credentials: clientId !== undefined && clientSecret !== undefined ? { clientId, clientSecret } : null,
      initialAccessToken: initialAccessToken ?? null,
    },
    revocationFeed: { enabled: feed === 'on', maxStalenessSeconds, onStale },
  };
  if (r.problems.length > 0) throw new ConfigError(r.problems);
  return config;
}
