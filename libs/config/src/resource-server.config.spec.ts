import { ConfigError } from './env-reader.js';
import { loadResourceServerConfig } from './resource-server.config.js';

const base = { TESSERA_RESOURCE_DATABASE_URL: 'postgres://u:p@127.0.0.1:5432/notes' };

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadResourceServerConfig(env);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

describe('loadResourceServerConfig', () => {
  it('has defaults for everything but its database', () => {
    expect(loadResourceServerConfig(base)).toEqual({
      database: { url: 'postgres://u:p@127.0.0.1:5432/notes' },
      http: { host: '127.0.0.1', port: 3001 },
      metrics: { port: null, host: '127.0.0.1' },
      logging: { level: 'info', format: null },
      issuer: { url: 'http://localhost:3000' },
      authorizationServer: { url: null },
      resource: { url: 'http://localhost:3001' },
      introspection: { credentials: null, initialAccessToken: null },
      revocationFeed: { enabled: true, maxStalenessSeconds: 15, onStale: 'fail-closed' },
    });
  });

  it('takes the log level and format, and refuses unknown ones', () => {
    expect(loadResourceServerConfig({ ...base, TESSERA_LOG_LEVEL: 'debug', TESSERA_LOG_FORMAT: 'pretty' }).logging).toEqual({ level: 'debug', format: 'pretty' });
    expect(problemsOf({ ...base, TESSERA_LOG_LEVEL: 'loud', TESSERA_LOG_FORMAT: 'xml' })).toEqual([
      'TESSERA_LOG_LEVEL="loud": must be one of fatal, error, warn, info, debug, trace, silent',
      'TESSERA_LOG_FORMAT="xml": must be one of json, pretty',
    ]);
  });

  it('derives the default resource identifier from its port', () => {
    expect(loadResourceServerConfig({ ...base, TESSERA_RESOURCE_PORT: '8081' }).resource.url).toBe('http://localhost:8081');
    expect(loadResourceServerConfig({ ...base, TESSERA_RESOURCE_PORT: '8081', TESSERA_RESOURCE_URL: 'https://notes.example/api' }).resource.url).toBe(
      'https://notes.example/api',
    );
  });

  it('does not read PORT or DATABASE_URL (those are the auth server\'s)', () => {
    expect(problemsOf({ DATABASE_URL: 'postgres://u:p@h/db' })).toEqual([
      'TESSERA_RESOURCE_DATABASE_URL: required (the resource server keeps its notes in a database of its own; npm start creates one)',
    ]);
    expect(loadResourceServerConfig({ ...base, PORT: '9999' }).http.port).toBe(3001);
  });

  it('takes the issuer without a trailing slash, and the introspection settings', () => {
    const c = loadResourceServerConfig({
      ...base,
      TESSERA_ISSUER: 'https://as.example/',
      TESSERA_HOST: '0.0.0.0',
      TESSERA_RESOURCE_CLIENT_ID: 'rs',
      TESSERA_RESOURCE_CLIENT_SECRET: 'secret',
      TESSERA_INITIAL_ACCESS_TOKEN: 'an-initial-access-token',
    });
    expect(c.issuer.url).toBe('https://as.example');
    expect(c.http.host).toBe('0.0.0.0');
    expect(c.introspection).toEqual({
      credentials: { clientId: 'rs', clientSecret: 'secret' },
      initialAccessToken: 'an-initial-access-token',
    });
  });

  it('reaches the auth server at TESSERA_AUTH_SERVER_URL when given, still trusting the issuer', () => {
    const c = loadResourceServerConfig({ ...base, TESSERA_ISSUER: 'https://auth.example', TESSERA_AUTH_SERVER_URL: 'http://10.0.0.7:3000/' });
    expect(c.issuer.url).toBe('https://auth.example');
    expect(c.authorizationServer.url).toBe('http://10.0.0.7:3000');
    expect(loadResourceServerConfig({ ...base, TESSERA_AUTH_SERVER_URL: '' }).authorizationServer.url).toBeNull();
  });

  it('takes the revocation feed settings', () => {
    expect(
      loadResourceServerConfig({
        ...base,
        TESSERA_REVOCATION_FEED: 'off',
        TESSERA_REVOCATION_MAX_STALENESS: '3',
        TESSERA_REVOCATION_ON_STALE: 'introspect',
      }).revocationFeed,
    ).toEqual({ enabled: false, maxStalenessSeconds: 3, onStale: 'introspect' });
    expect(loadResourceServerConfig({ ...base, TESSERA_REVOCATION_FEED: 'on' }).revocationFeed.enabled).toBe(true);
  });

  it('refuses bad revocation feed settings and a bad auth server URL', () => {
    expect(
      problemsOf({
        ...base,
        TESSERA_AUTH_SERVER_URL: 'tcp://10.0.0.7',
        TESSERA_REVOCATION_FEED: 'yes',
        TESSERA_REVOCATION_MAX_STALENESS: '0',
        TESSERA_REVOCATION_ON_STALE: 'fail-open',
      }),
    ).toEqual([
      'TESSERA_AUTH_SERVER_URL: must be a URL (http: or https:)',
      'TESSERA_REVOCATION_FEED="yes": must be one of on, off',
      'TESSERA_REVOCATION_MAX_STALENESS="0": must be a whole number from 1 to 86400',
      'TESSERA_REVOCATION_ON_STALE="fail-open": must be one of fail-closed, introspect',
    ]);
    expect(problemsOf({ ...base, TESSERA_AUTH_SERVER_URL: 'http://10.0.0.7:3000/?x=1' })).toEqual([
      'TESSERA_AUTH_SERVER_URL: must have no query or fragment (endpoint paths are appended to it)',
    ]);
  });

  it('treats empty variables as unset (docker-compose passes ${X:-})', () => {
    const c = loadResourceServerConfig({ ...base, TESSERA_RESOURCE_CLIENT_ID: '', TESSERA_RESOURCE_CLIENT_SECRET: '', TESSERA_INITIAL_ACCESS_TOKEN: '' });
    expect(c.introspection).toEqual({ credentials: null, initialAccessToken: null });
  });

  it('lists every bad variable at once', () => {
    expect(
      problemsOf({
        TESSERA_RESOURCE_PORT: 'abc',
        TESSERA_RESOURCE_DATABASE_URL: 'mysql://h/db',
        TESSERA_ISSUER: 'ftp://as.example',
        TESSERA_RESOURCE_URL: 'not a url',
        TESSERA_RESOURCE_CLIENT_ID: 'rs',
        TESSERA_INITIAL_ACCESS_TOKEN: 'short',
      }),
    ).toEqual([
      'TESSERA_RESOURCE_PORT="abc": must be a whole number from 0 to 65535',
      'TESSERA_RESOURCE_DATABASE_URL: must be a PostgreSQL URL (postgres: or postgresql:)',
      'TESSERA_ISSUER: must be a URL (http: or https:)',
      'TESSERA_RESOURCE_URL: must be a URL (http: or https:)',
      'TESSERA_RESOURCE_CLIENT_SECRET: required when TESSERA_RESOURCE_CLIENT_ID is set',
      'TESSERA_INITIAL_ACCESS_TOKEN: must be at least 16 characters',
    ]);
  });

  it('refuses an issuer with a query and a resource with a fragment', () => {
    expect(problemsOf({ ...base, TESSERA_ISSUER: 'https://as.example/?x=1', TESSERA_RESOURCE_URL: 'https://api.example/#x' })).toEqual([
      'TESSERA_ISSUER: must have no query or fragment (RFC 8414 §2)',
      'TESSERA_RESOURCE_URL: must have no fragment (RFC 8707 §2)',
    ]);
  });

  it('wants the client id and secret together', () => {
    expect(problemsOf({ ...base, TESSERA_RESOURCE_CLIENT_SECRET: 's' })).toEqual([
      'TESSERA_RESOURCE_CLIENT_ID: required when TESSERA_RESOURCE_CLIENT_SECRET is set',
    ]);
  });
});
