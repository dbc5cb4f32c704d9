import { resolveTokenGuardOptions } from './token-guard.options.js';

describe('resolveTokenGuardOptions', () => {
  it('fills in the defaults', () => {
    expect(resolveTokenGuardOptions({ issuer: 'https://as.example', audience: 'https://api.example' })).toEqual({
      issuer: 'https://as.example',
      audience: 'https://api.example',
      introspection: undefined,
      realm: 'https://api.example',
      clockToleranceSeconds: 5,
      allowQueryToken: false,
      introspectionCache: { ttlSeconds: 60, inactiveTtlSeconds: 5, maxEntries: 10_000 },
      jwksRefetchMinIntervalSeconds: 1,
      authorizationServerUrl: 'https://as.example',
      revocationFeed: null, // no introspection credentials: nothing to authenticate to the feed with
      metrics: null,
    });
  });

  it('follows the revocation feed by default when it has credentials, unless turned off', () => {
    const base = { issuer: 'https://as.example/', audience: 'https://api.example', introspection: { clientId: 'rs', clientSecret: 's' } };
    expect(resolveTokenGuardOptions(base).revocationFeed).toEqual({ maxStalenessSeconds: 15, onStale: 'fail-closed' });
    expect(resolveTokenGuardOptions(base).authorizationServerUrl).toBe('https://as.example');
    expect(resolveTokenGuardOptions({ ...base, revocationFeed: { onStale: 'introspect', maxStalenessSeconds: 3 } }).revocationFeed).toEqual({
      maxStalenessSeconds: 3,
      onStale: 'introspect',
    });
    expect(resolveTokenGuardOptions({ ...base, revocationFeed: { enabled: false } }).revocationFeed).toBeNull();
    expect(() => resolveTokenGuardOptions({ ...base, introspection: undefined, revocationFeed: { enabled: true } })).toThrow(/revocationFeed needs introspection/);
    expect(() => resolveTokenGuardOptions({ ...base, revocationFeed: { onStale: 'ignore' as never } })).toThrow(/onStale/);
  });

  it('takes fixed introspection credentials, or a function asked at each call (credentials that arrive later)', () => {
    const base = { issuer: 'https://as.example', audience: 'https://api.example' };
    const fixed = { clientId: 'rs', clientSecret: 's' };
    expect(resolveTokenGuardOptions({ ...base, introspection: fixed }).introspection?.()).toBe(fixed);
    let late: typeof fixed | undefined;
    const settings = resolveTokenGuardOptions({ ...base, introspection: () => late });
    expect(settings.introspection?.()).toBeUndefined();
    late = fixed;
    expect(settings.introspection?.()).toBe(fixed);
    expect(resolveTokenGuardOptions(base).introspection).toBeUndefined();
    expect(() => resolveTokenGuardOptions({ ...base, introspection: { clientId: '', clientSecret: '' } })).toThrow(/introspection needs/);
  });

  it('lists every bad option at once', () => {
    expect(() =>
      resolveTokenGuardOptions({
        issuer: 'not a url',
        audience: '',
        introspection: { clientId: 'rs' } as never,
        clockToleranceSeconds: -1,
        introspectionCache: { maxEntries: 0 },
      }),
    ).toThrow(
      'TokenGuardModule: invalid options: issuer must be an absolute URL; audience must be a non-empty string; ' +
        'introspection needs a clientId and a clientSecret; clockToleranceSeconds must be a number of seconds, 0 or more; ' +
        'introspectionCache.maxEntries must be a whole number, 1 or more',
    );
  });
});
