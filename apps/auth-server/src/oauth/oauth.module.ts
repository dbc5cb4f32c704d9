// The HTTP face of the server that composeAuthServer builds: one provider builds it from the storage the
// PersistenceModule provides, and the controllers get its parts. No port is wired to an adapter here.
import { Inject, Injectable, Logger, Module, type DynamicModule, type OnModuleDestroy, type Provider } from '@nestjs/common';
import type { AuthServerConfig } from '@tessera/config';
import {
  AuthorizationEndpoint,
  ClientConfigurationEndpoint,
  Clock,
  IntrospectionEndpoint,
  RegistrationEndpoint,
  RevocationBroadcaster,
  RevocationEndpoint,
  RevocationFeedEndpoint,
  SignIn,
  TokenEndpoint,
  type ServerStorage,
} from '@tessera/oauth-core';
import { SERVER_STORAGE } from '@tessera/persistence';
import { composeAuthServer, type AuthServer, type ComposeOptions } from '@tessera/server';
import { KeySet } from '@tessera/tokens';
import { AssetsController } from '../interaction/assets.controller.js';
import { AuthorizeController } from '../interaction/authorize.controller.js';
import { BrowserCookies } from '../interaction/browser.js';
import { PAGES_CONFIG, type PagesConfig } from '../interaction/interaction.tokens.js';
import { SignInController } from '../interaction/sign-in.controller.js';
import { KeyRotationScheduler } from '../maintenance/key-rotation.scheduler.js';
import { OAuthMetrics } from '../metrics/oauth.metrics.js';
import { Purger } from '../maintenance/purger.js';
import { OpenApiController } from '../openapi/openapi.controller.js';
import { RevocationFeedController } from '../revocations/revocation-feed.controller.js';
import { RevocationStreams } from '../revocations/revocation-streams.js';
import { ClientConfigurationController } from './client-configuration.controller.js';
import { DiscoveryController } from './discovery.controller.js';
import { IntrospectionController } from './introspection.controller.js';
import { AUTH_SERVER, AUTH_SERVER_CONFIG, CACHED_CLIENTS, DISCOVERY_METADATA } from './oauth.tokens.js';
import { RegistrationController } from './registration.controller.js';
import { RevocationController } from './revocation.controller.js';
import { TokenController } from './token.controller.js';

@Injectable()
class OAuthLifecycle implements OnModuleDestroy {
  constructor(@Inject(AUTH_SERVER) private readonly server: AuthServer) {}
  onModuleDestroy(): void {
    this.server.close();
  }
}

/** A part of the built server, for injection by `provide`. */
function part(provide: symbol | (abstract new (...args: never[]) => unknown), pick: (s: AuthServer) => unknown): Provider {
  return { provide, useFactory: pick, inject: [AUTH_SERVER] };
}

@Module({})
export class OAuthModule {
  /** `options` replace what production uses by default: the clock, randomness, the password hasher (tests pass theirs). */
  static forRoot(config: AuthServerConfig, options: ComposeOptions = {}): DynamicModule {
    const registration = config.features.registration;
    // The authorization endpoint and its pages exist when the code grant does.
    const pages = config.features.grants.includes('authorization_code');
    return {
      module: OAuthModule,
      controllers: [
        TokenController,
        IntrospectionController,
        RevocationController,
        DiscoveryController,
        RevocationFeedController,
        OpenApiController,
        ...(registration ? [RegistrationController, ClientConfigurationController] : []),
        ...(pages ? [AuthorizeController, SignInController, AssetsController] : []),
      ],
      providers: [
        { provide: AUTH_SERVER_CONFIG, useValue: config },
        {
          provide: AUTH_SERVER,
          // The metrics hear of throttled requests and rate-limit flushes where they happen, off the request path.
          useFactory: async (storage: ServerStorage, metrics: OAuthMetrics | undefined) => {
            const feedLog = new Logger('RevocationFeed');
            const revocationReads = {
              failed: (e: unknown) => feedLog.warn(`reading new revocations failed, retrying every second: ${e instanceof Error ? e.message : String(e)}`),
              recovered: () => feedLog.log('reading new revocations works again'),
            };
            const server = await composeAuthServer(config, storage, { rateLimitObserver: metrics, revocationReads, ...options });
            metrics?.watchRateLimiter(server.rateLimiter);
            return server;
          },
          inject: [SERVER_STORAGE, { token: OAuthMetrics, optional: true }],
        },
        part(Clock, (s) => s.clock),
        part(KeySet, (s) => s.keys),
        part(RevocationBroadcaster, (s) => s.revocationLog),
        part(CACHED_CLIENTS, (s) => s.clients),
        part(TokenEndpoint, (s) => s.token),
        part(IntrospectionEndpoint, (s) => s.introspection),
        part(RevocationEndpoint, (s) => s.revocation),
        part(RevocationFeedEndpoint, (s) => s.revocationFeed),
        part(DISCOVERY_METADATA, (s) => s.metadata),
        part(SignIn, (s) => s.signIn),
        ...(registration ? [part(RegistrationEndpoint, (s) => s.registration), part(ClientConfigurationEndpoint, (s) => s.clientConfiguration)] : []),
        ...(pages ? pageProviders(config) : []),
        RevocationStreams,
        Purger,
        KeyRotationScheduler,
        OAuthLifecycle,
      ],
    };
  }
}

/** The authorization endpoint's pages: their settings and cookies. */
function pageProviders(config: AuthServerConfig): Provider[] {
  const issuer = new URL(config.issuer.url);
  return [
    { provide: PAGES_CONFIG, useValue: { issuer: config.issuer.url, scopeDescriptions: config.consent.scopeDescriptions } satisfies PagesConfig },
    part(AuthorizationEndpoint, (s) => s.authorization),
    {
      provide: BrowserCookies,
      useFactory: (s: AuthServer) =>
        new BrowserCookies({ secure: issuer.protocol === 'https:', sessionTtlSeconds: config.signIn.sessionTtl, origin: issuer.origin }, s.random),
      inject: [AUTH_SERVER],
    },
  ];
}
