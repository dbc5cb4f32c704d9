// The one place where ports meet adapters and the enabled grants are registered.
import { Module, type DynamicModule, type OnModuleDestroy, type Provider, Inject, Injectable } from '@nestjs/common';
import type { AuthServerConfig, GrantType } from '@tessera/config';
import {
  acceptedAuthMethods,
  AccessTokenInspector,
  AccessTokenIssuer,
  AccessTokenRepository,
  AuthorizationCodeGrant,
  AuthorizationCodeIssuer,
  AuthorizationCodeRepository,
  AuthorizationEndpoint,
  authorizationServerMetadata,
  CachingClientRepository,
  ChangeFeed,
  ClientAuthenticator,
  ClientCredentialsGrant,
  ClientRegistrar,
  ClientRepository,
  Clock,
  ConsentRepository,
  IntrospectionEndpoint,
  RandomSource,
  RefreshTokenGrant,
  RefreshTokenIssuer,
  RefreshTokenRepository,
  RegistrationEndpoint,
  RevocationEndpoint,
  RevocationFeedEndpoint,
  RevocationRepository,
  SecretHasher,
  SessionRepository,
  SignIn,
  SignInFailureRepository,
  PasswordHasher,
  SigningKeyRepository,
  SystemClock,
  TokenEndpoint,
  UserDirectory,
  UserRepository,
  type Grant,
} from '@tessera/oauth-core';
import {
  ClientSecretHasher,
  CryptoRandomSource,
  JwtAccessTokenStrategy,
  KeyEncryptionKeys,
  KeySet,
  OpaqueAccessTokenStrategy,
  ScryptPasswordHasher,
} from '@tessera/tokens';
import { RevocationFeedController } from '../revocations/revocation-feed.controller.js';
import { AssetsController } from '../interaction/assets.controller.js';
import { AuthorizeController } from '../interaction/authorize.controller.js';
import { BrowserCookies } from '../interaction/browser.js';
import { PAGES_CONFIG, type PagesConfig } from '../interaction/interaction.tokens.js';
import { SignInController } from '../interaction/sign-in.controller.js';
import { Purger } from '../maintenance/purger.js';
import { RevocationStreams } from '../revocations/revocation-streams.js';
import { DiscoveryController } from './discovery.controller.js';
import { IntrospectionController } from './introspection.controller.js';
import { AUTH_SERVER_CONFIG, CACHED_CLIENTS, DISCOVERY_METADATA } from './oauth.tokens.js';
import { RegistrationController } from './registration.controller.js';
import { RevocationController } from './revocation.controller.js';
import { TokenController } from './token.controller.js';

const GRANTS = Symbol('GRANTS');

interface GrantDeps {
  issuer: AccessTokenIssuer;
  refreshTokenIssuer: RefreshTokenIssuer;
  codes: AuthorizationCodeRepository;
  refreshTokens: RefreshTokenRepository;
  users: UserRepository;
  clock: Clock;
  config: AuthServerConfig;
}

/** Every grant Tessera knows. A grant that is not enabled is not registered, so it answers unsupported_grant_type. */
const GRANT_FACTORIES: Record<GrantType, (d: GrantDeps) => Grant> = {
  client_credentials: (d) => new ClientCredentialsGrant(d.issuer, d.config.issuer.url),
  authorization_code: (d) => new AuthorizationCodeGrant(d.codes, d.users, d.refreshTokens, d.issuer, d.refreshTokenIssuer, d.clock),
  refresh_token: (d) => new RefreshTokenGrant(d.refreshTokens, d.users, d.issuer, d.refreshTokenIssuer, d.clock),
};

@Injectable()
class OAuthLifecycle implements OnModuleDestroy {
  constructor(
    private readonly keys: KeySet,
    @Inject(CACHED_CLIENTS) private readonly clients: CachingClientRepository,
  ) {}
  onModuleDestroy(): void {
    this.keys.close();
    this.clients.close();
  }
}

@Module({})
export class OAuthModule {
  static forRoot(config: AuthServerConfig): DynamicModule {
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
        ...(registration ? [RegistrationController] : []),
        ...(pages ? [AuthorizeController, SignInController, AssetsController] : []),
      ],
      providers: [
        { provide: AUTH_SERVER_CONFIG, useValue: config },
        { provide: Clock, useClass: SystemClock },
        { provide: RandomSource, useClass: CryptoRandomSource },
        { provide: KeyEncryptionKeys, useFactory: () => keyEncryptionKeys(config) },
        {
          provide: SecretHasher,
          useFactory: (keys: KeyEncryptionKeys) => new ClientSecretHasher({ pepper: config.tokens.clientSecretPepper, keys }),
          inject: [KeyEncryptionKeys],
        },
        {
          provide: CACHED_CLIENTS,
          useFactory: (repo: ClientRepository, feed: ChangeFeed, clock: Clock) => new CachingClientRepository(repo, feed, clock),
          inject: [ClientRepository, ChangeFeed, Clock],
        },
        {
          provide: KeySet,
          useFactory: async (repo: SigningKeyRepository, feed: ChangeFeed, clock: Clock, encryption: KeyEncryptionKeys) => {
            const keys = new KeySet(repo, feed, clock, {
              algorithm: config.tokens.signingAlgorithm,
              encryption,
              maxTokenTtlSeconds: config.tokens.maxAccessTokenTtl,
            });
            await keys.init();
            return keys;
          },
          inject: [SigningKeyRepository, ChangeFeed, Clock, KeyEncryptionKeys],
        },
        {
          provide: OpaqueAccessTokenStrategy,
          useFactory: (repo: AccessTokenRepository, random: RandomSource, clock: Clock) => new OpaqueAccessTokenStrategy(repo, random, clock),
          inject: [AccessTokenRepository, RandomSource, Clock],
        },
        {
          provide: JwtAccessTokenStrategy,
          useFactory: (keys: KeySet, revocations: RevocationRepository, clock: Clock) =>
            new JwtAccessTokenStrategy(keys, revocations, clock, config.issuer.url),
          inject: [KeySet, RevocationRepository, Clock],
        },
        {
          provide: AccessTokenIssuer,
          useFactory: (opaque: OpaqueAccessTokenStrategy, jwt: JwtAccessTokenStrategy, random: RandomSource, clock: Clock) =>
            new AccessTokenIssuer([opaque, jwt], random, clock, {
              issuer: config.issuer.url,
              defaultTtl: config.tokens.accessTokenTtl,
              resourceFormats: config.tokens.resourceTokenFormats,
            }),
          inject: [OpaqueAccessTokenStrategy, JwtAccessTokenStrategy, RandomSource, Clock],
        },
        {
          provide: AccessTokenInspector,
          useFactory: (opaque: OpaqueAccessTokenStrategy, jwt: JwtAccessTokenStrategy, revocations: RevocationRepository, clients: ClientRepository) =>
            new AccessTokenInspector([opaque, jwt], revocations, clients),
          inject: [OpaqueAccessTokenStrategy, JwtAccessTokenStrategy, RevocationRepository, CACHED_CLIENTS],
        },
        {
          provide: ClientAuthenticator,
          useFactory: (clients: ClientRepository, hasher: SecretHasher) => new ClientAuthenticator(clients, hasher),
          inject: [CACHED_CLIENTS, SecretHasher],
        },
        {
          provide: RefreshTokenIssuer,
          useFactory: (repo: RefreshTokenRepository, random: RandomSource, clock: Clock) =>
            new RefreshTokenIssuer(repo, random, clock, config.tokens.refreshTokenTtl, config.tokens.refreshTokenMaxLifetime),
          inject: [RefreshTokenRepository, RandomSource, Clock],
        },
        {
          // What the authorization endpoint calls once the user has signed in and consented.
          provide: AuthorizationCodeIssuer,
          useFactory: (repo: AuthorizationCodeRepository, random: RandomSource, clock: Clock) =>
            new AuthorizationCodeIssuer(repo, random, clock, config.tokens.authorizationCodeTtl),
          inject: [AuthorizationCodeRepository, RandomSource, Clock],
        },
        {
          provide: GRANTS,
          useFactory: (
            issuer: AccessTokenIssuer,
            refreshTokenIssuer: RefreshTokenIssuer,
            codes: AuthorizationCodeRepository,
            refreshTokens: RefreshTokenRepository,
            users: UserRepository,
            clock: Clock,
          ) => config.features.grants.map((g) => GRANT_FACTORIES[g]({ issuer, refreshTokenIssuer, codes, refreshTokens, users, clock, config })),
          inject: [AccessTokenIssuer, RefreshTokenIssuer, AuthorizationCodeRepository, RefreshTokenRepository, UserRepository, Clock],
        },
        {
          provide: TokenEndpoint,
          useFactory: (grants: Grant[], auth: ClientAuthenticator) => new TokenEndpoint(grants, auth),
          inject: [GRANTS, ClientAuthenticator],
        },
        {
          provide: IntrospectionEndpoint,
          useFactory: (auth: ClientAuthenticator, inspector: AccessTokenInspector, repo: RefreshTokenRepository, users: UserRepository, clock: Clock) =>
            new IntrospectionEndpoint(auth, inspector, { repo, users, clock }),
          inject: [ClientAuthenticator, AccessTokenInspector, RefreshTokenRepository, UserRepository, Clock],
        },
        {
          provide: RevocationEndpoint,
          useFactory: (auth: ClientAuthenticator, inspector: AccessTokenInspector, clock: Clock, refreshTokens: RefreshTokenRepository) =>
            new RevocationEndpoint(auth, inspector, clock, refreshTokens),
          inject: [ClientAuthenticator, AccessTokenInspector, Clock, RefreshTokenRepository],
        },
        {
          provide: ClientRegistrar,
          useFactory: (clients: ClientRepository, hasher: SecretHasher, random: RandomSource, clock: Clock) =>
            new ClientRegistrar(clients, hasher, random, clock),
          inject: [CACHED_CLIENTS, SecretHasher, RandomSource, Clock],
        },
        ...(registration
          ? [
              {
                provide: RegistrationEndpoint,
                useFactory: (registrar: ClientRegistrar, tokens: TokenEndpoint) =>
                  new RegistrationEndpoint(
                    registrar,
                    { grantTypes: tokens.grantTypes(), maxAccessTokenTtl: config.tokens.maxAccessTokenTtl },
                    registration.initialAccessToken,
                  ),
                inject: [ClientRegistrar, TokenEndpoint],
              },
            ]
          : []),
        {
          provide: DISCOVERY_METADATA,
          // A function: the signing algorithms change when a key is rotated.
          useFactory: (tokens: TokenEndpoint, keys: KeySet) => () =>
            authorizationServerMetadata({
              issuer: config.issuer.url,
              grantTypes: tokens.grantTypes(),
              registrationEnabled: registration !== null,
              scopesSupported: config.features.scopesSupported,
              signingAlgorithms: keys.algorithms(),
              authorizationEndpoint: pages,
              clientAuthMethods: {
                token: acceptedAuthMethods(tokens.clientAuth),
                revocation: acceptedAuthMethods(RevocationEndpoint.clientAuth),
                introspection: acceptedAuthMethods(IntrospectionEndpoint.clientAuth),
              },
            }),
          inject: [TokenEndpoint, KeySet],
        },
        {
          provide: RevocationFeedEndpoint,
          // The clients uncached: an open stream is checked again only when its client changed, and must see the change.
          useFactory: (auth: ClientAuthenticator, revocations: RevocationRepository, clients: ClientRepository) =>
            new RevocationFeedEndpoint(auth, revocations, clients),
          inject: [ClientAuthenticator, RevocationRepository, ClientRepository],
        },
        ...(pages ? pageProviders(config) : []),
        RevocationStreams,
        Purger,
        OAuthLifecycle,
      ],
    };
  }
}

/** The key-encryption keys the configuration names (the CLI builds the same from the same variables). */
function keyEncryptionKeys(config: AuthServerConfig): KeyEncryptionKeys {
  return new KeyEncryptionKeys({ current: config.tokens.keyEncryptionKey, previous: config.tokens.previousKeyEncryptionKey });
}

/** The authorization endpoint, sign-in and consent. */
function pageProviders(config: AuthServerConfig): Provider[] {
  return [
    { provide: PAGES_CONFIG, useValue: { issuer: config.issuer.url, scopeDescriptions: config.consent.scopeDescriptions } satisfies PagesConfig },
    {
      provide: BrowserCookies,
      useFactory: (random: RandomSource) =>
        new BrowserCookies(
          { secure: new URL(config.issuer.url).protocol === 'https:', sessionTtlSeconds: config.signIn.sessionTtl, origin: new URL(config.issuer.url).origin },
          random,
        ),
      inject: [RandomSource],
    },
    { provide: PasswordHasher, useFactory: () => new ScryptPasswordHasher() },
    {
      provide: SignIn,
      useFactory: (users: UserRepository, hasher: PasswordHasher, sessions: SessionRepository, failures: SignInFailureRepository, random: RandomSource, clock: Clock) =>
        new SignIn(new UserDirectory(users, hasher, clock), sessions, failures, random, clock, config.signIn),
      inject: [UserRepository, PasswordHasher, SessionRepository, SignInFailureRepository, RandomSource, Clock],
    },
    {
      provide: AuthorizationEndpoint,
      useFactory: (clients: ClientRepository, consents: ConsentRepository, codes: AuthorizationCodeIssuer, clock: Clock) =>
        new AuthorizationEndpoint(clients, consents, codes, clock, config.issuer.url),
      inject: [CACHED_CLIENTS, ConsentRepository, AuthorizationCodeIssuer, Clock],
    },
  ];
}
