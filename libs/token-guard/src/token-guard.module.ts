import { Module, type DynamicModule, type FactoryProvider, type ModuleMetadata, type Provider } from '@nestjs/common';
import { AccessTokenAuthenticator } from './access-token.authenticator.js';
import { DiscoveryClient } from './discovery.client.js';
import { IntrospectionCache } from './introspection.cache.js';
import { IntrospectionClient } from './introspection.client.js';
import { JwksKeyStore } from './jwks.key-store.js';
import { JwtAccessTokenChecker } from './jwt-access-token.checker.js';
import type { FeedRevocation } from '@tessera/oauth-core';
import { RevocationFeedFollower } from './revocation-feed.follower.js';
import { RevocationList } from './revocation.list.js';
import { TokenCache } from './token.cache.js';
import { TokenGuardCounts } from './token-guard.metrics.js';
import { REVOCATION_FOLLOWER, TOKEN_GUARD_COUNTS, TokenGuardStatus } from './token-guard.status.js';
import {
  resolveTokenGuardOptions,
  TOKEN_GUARD_OPTIONS,
  TOKEN_GUARD_SETTINGS,
  type TokenGuardOptions,
  type TokenGuardSettings,
} from './token-guard.options.js';
import { TokenGuard } from './token.guard.js';

export interface TokenGuardModuleAsyncOptions {
  imports?: ModuleMetadata['imports'];
  inject?: FactoryProvider['inject'];
  useFactory: (...args: any[]) => TokenGuardOptions | Promise<TokenGuardOptions>;
}

/**
 * What a resource server imports once (a global module): then `@UseGuards(TokenGuard)`
 * anywhere. Start-up never waits for the auth server: the revocation feed
 * connects in the background (and has the JWKS fetched), and discovery, JWKS
 * and introspection otherwise happen on the first request that needs them.
 */
@Module({})
export class TokenGuardModule {
  static forRoot(options: TokenGuardOptions): DynamicModule {
    return TokenGuardModule.create([{ provide: TOKEN_GUARD_OPTIONS, useValue: options }]);
  }

  static forRootAsync(options: TokenGuardModuleAsyncOptions): DynamicModule {
    return TokenGuardModule.create(
      [{ provide: TOKEN_GUARD_OPTIONS, useFactory: options.useFactory, inject: options.inject ?? [] }],
      options.imports,
    );
  }

  private static create(optionsProvider: Provider[], imports: ModuleMetadata['imports'] = []): DynamicModule {
    return {
      module: TokenGuardModule,
      global: true,
      imports,
      providers: [
        ...optionsProvider,
        { provide: TOKEN_GUARD_SETTINGS, useFactory: resolveTokenGuardOptions, inject: [TOKEN_GUARD_OPTIONS] },
        { provide: RUNTIME, useFactory: (settings: TokenGuardSettings) => createTokenGuardRuntime(settings), inject: [TOKEN_GUARD_SETTINGS] },
        { provide: AccessTokenAuthenticator, useFactory: (rt: TokenGuardRuntime) => rt.authenticator, inject: [RUNTIME] },
        { provide: REVOCATION_FOLLOWER, useFactory: (rt: TokenGuardRuntime) => rt.follower, inject: [RUNTIME] },
        { provide: TOKEN_GUARD_COUNTS, useFactory: (rt: TokenGuardRuntime) => rt.counts, inject: [RUNTIME] },
        TokenGuardStatus,
        TokenGuard,
      ],
      exports: [TOKEN_GUARD_SETTINGS, TOKEN_GUARD_COUNTS, AccessTokenAuthenticator, TokenGuard, TokenGuardStatus],
    };
  }
}

const RUNTIME = Symbol('TOKEN_GUARD_RUNTIME');

export interface TokenGuardRuntime {
  authenticator: AccessTokenAuthenticator;
  /** Null when the revocation feed is off. */
  follower: RevocationFeedFollower | null;
  /** What the guard counts; registered in `settings.metrics.registry` when that is set. */
  counts: TokenGuardCounts;
}

/** Wires the verification pieces of one module instance. */
export function createTokenGuardRuntime(settings: TokenGuardSettings, now: () => number = Date.now): TokenGuardRuntime {
  const discovery = new DiscoveryClient(settings.issuer, settings.authorizationServerUrl, now);
  const jwksUri = async () => {
    const { jwksUri } = await discovery.get();
    if (!jwksUri) throw new Error('the authorization server metadata has no jwks_uri');
    return jwksUri;
  };
  const jwks = new JwksKeyStore(jwksUri, settings.jwksRefetchMinIntervalSeconds * 1000, now);
  const introspection = settings.introspection && new IntrospectionClient(discovery, settings.introspection, settings, now);
  const introspectionCache = introspection && new IntrospectionCache((token) => introspection.introspect(token), settings.introspectionCache, now);

  let follower: RevocationFeedFollower | null = null;
  const list = new RevocationList(now);
  const feed = settings.revocationFeed;
  if (feed && settings.introspection) {
    follower = new RevocationFeedFollower({
      endpoint: async () => (await discovery.get()).revocationFeedEndpoint,
      credentials: settings.introspection,
      maxStalenessMs: feed.maxStalenessSeconds * 1000,
      onEntries: (entries) => onRevoked(entries),
      onPseudonymKey: (key) => list.usePseudonymKey(key),
      onReset: () => list.clear(),
      // The auth server's keys changed, or we (re)connected and may have missed that: fetch them now.
      onKeysChanged: () => {
        discovery.expire();
        void jwks.refreshNow();
      },
      now,
    });
  }
  const authenticator = new AccessTokenAuthenticator(
    new JwtAccessTokenChecker(settings, jwks),
    new TokenCache(settings.introspectionCache.maxEntries, now),
    introspectionCache,
    now,
    follower && feed ? { follower, list, onStale: feed.onStale, settleWaitMs: Math.min(2000, feed.maxStalenessSeconds * 1000) } : undefined,
  );
  // A key the JWKS now says is retired: a cached token it signed after that was not the auth server's.
  jwks.onKeysFetched = () => {
    authenticator.forget((r) => r.kid !== undefined && r.issuedAt > (jwks.retiredAt(r.kid) ?? Infinity));
  };
  /** Keeps the entries, and drops cached results they revoke. */
  function onRevoked(entries: FeedRevocation[]): void {
    for (const entry of entries) list.add(entry);
    authenticator.forget((r) => list.matches(entries, r));
  }
  const counts = new TokenGuardCounts(follower);
  if (settings.metrics) counts.register(settings.metrics);
  return { authenticator, follower, counts };
}
