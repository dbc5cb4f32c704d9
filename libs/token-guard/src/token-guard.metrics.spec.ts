import { Registry } from 'prom-client';
import { TokenGuardCounts } from './token-guard.metrics.js';
import { resolveTokenGuardOptions } from './token-guard.options.js';

describe('TokenGuardCounts', () => {
  it('registers its collectors in a prom-client Registry, read at scrape time', async () => {
    const registry = new Registry();
    const counts = new TokenGuardCounts(null);
    counts.register({ registry });
    counts.acceptedJwt += 3;
    counts.acceptedOpaque += 1;
    counts.cacheHits += 2;
    counts.cacheMisses += 2;
    counts.rejected.insufficient_scope++;
    const text = await registry.metrics();
    expect(text).toContain('# TYPE tokenguard_accepted_total counter\ntokenguard_accepted_total{format="jwt"} 3\ntokenguard_accepted_total{format="opaque"} 1');
    expect(text).toContain('tokenguard_rejected_total{reason="insufficient_scope"} 1\n');
    expect(text).toContain('tokenguard_rejected_total{reason="missing_token"} 0\n');
    expect(text).toContain('tokenguard_cache_hits_total 2\n');
    expect(text).toContain('tokenguard_cache_misses_total 2\n');
    // Not following a feed: the lag and stale gauges have no sample.
    expect(text).toContain('# TYPE tokenguard_revocation_feed_lag_seconds gauge\n');
    expect(text).not.toMatch(/^tokenguard_revocation_feed_lag_seconds /m);
    counts.acceptedJwt++;
    expect(await registry.metrics()).toContain('tokenguard_accepted_total{format="jwt"} 4\n');
    expect(counts.snapshot()).toEqual({
      accepted: { jwt: 4, opaque: 1 },
      rejected: { missing_token: 0, invalid_request: 0, invalid_token: 0, insufficient_scope: 1, temporarily_unavailable: 0 },
      cache: { hits: 2, misses: 2 },
      revocationFeedLagSeconds: null,
    });
  });

  it('takes a prefix, and refuses a second registration of the same names in one registry', () => {
    const registry = new Registry();
    new TokenGuardCounts().register({ registry, prefix: 'api_tokenguard_' });
    expect(registry.getSingleMetric('api_tokenguard_accepted_total')).toBeDefined();
    expect(() => new TokenGuardCounts().register({ registry, prefix: 'api_tokenguard_' })).toThrow(/already been registered/);
  });

  it('is refused at boot when metrics.registry is not a registry', () => {
    expect(() => resolveTokenGuardOptions({ issuer: 'https://as.example', audience: 'https://api.example', metrics: { registry: {} as never } })).toThrow(
      /metrics.registry must be a prom-client Registry/,
    );
  });
});
