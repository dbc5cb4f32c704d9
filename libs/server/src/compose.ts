// The one place where ports meet adapters (in the spirit of fosite's compose.Compose): the auth server's Nest
// module, the operator CLI and the tests all build the server from here, from a configuration, a storage (every
// port, from one store) and the few things that differ between production and tests (clock, randomness,
// password hasher). No framework: a plain function, usable with in-memory ports.
import type { AuthServerConfig, GrantType } from '@tessera/config';
import {
  acceptedAuthMethods,
  AccessTokenInspector,
  AccessTokenIssuer,
  AuthorizationCodeIssuer,
  AuthorizationEndpoint,
  authorizationServerMetadata,
  CachingAccessTokenRepository,
  CachingClientRepository,
  ClientAuthenticator,
  ClientConfigurationEndpoint,
  ClientRegistrar,
  IntrospectionEndpoint,
  NoAuditLog,
  RefreshTokenIssuer,
  RateLimiter,
  type RateLimitObserver,
  RegistrationEndpoint,
  RequestRateLimits,
  RevocationBroadcaster,
  RevocationEndpoint,
  RevocationFeedEndpoint,
  RevocationLogFence,
  REVOCATION_POLL_MS,
  SignIn,
  SystemClock,
  TokenEndpoint,
  UserDirectory,
  type AccessTokenCacheOptions,
  type AuditLog,
  type Client,
  type FormParams,
  type Clock,
  type Grant,
  type PasswordHasher,
  type RandomSource,
  type ServerStorage,
  type SigningAlgorithm,
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
import { GRANT_FACTORIES, type GrantFactory } from './grant-factories.js';

/** What production takes by default and a test may replace. */
export interface ComposeOptions {
  /** Default: the system clock. */
  clock?: Clock;
  /** Default: node:crypto's CSPRNG. */
  random?: RandomSource;
  /** Default: scrypt at 128 MiB (`defaultPasswordHasher()`). */
  passwordHasher?: PasswordHasher;
  /** Grant factories by grant_type, replacing the built-in ones; still only the enabled grants are built. */
  grantFactories?: Partial<Record<GrantType, GrantFactory>>;
  /** Told about failures in the background (reloading signing keys). */
  logger?: (message: string, error: unknown) => void;
  /** Where audit events go (sign-ins, reuse, changes to clients, users and keys, revocations); default nowhere. */
  audit?: AuditLog;
  /**
   * Told of each client authenticated at an endpoint, with the request's form (`FormParams`, one object per
   * request, which the app maps to its request: the request log's `client_id`).
   */
  onClientAuthenticated?: (clientId: string, params: FormParams) => void;
  /** Told of requests refused over a rate limit and of the limiter's flushes (metrics); default no one. */
  rateLimitObserver?: RateLimitObserver;
  /** Told when reading the revocation log fails (the first failure of a run) and when it works again. */
  revocationReads?: { failed?: (error: unknown) => void; recovered?: () => void };
  /** The bound of the opaque access-token cache; default `DEFAULT_ACCESS_TOKEN_CACHE`. */
  accessTokenCache?: AccessTokenCacheOptions;
}

/** The password hasher of a production server: scrypt, N=2^17, r=8, p=1. */
export function defaultPasswordHasher(): PasswordHasher {
  return new ScryptPasswordHasher();
}

/** What the operator commands need: no cache, no key loading, nothing running. */
export interface Administration {
  clock: Clock;
  audit: AuditLog;
  random: RandomSource;
  /** The key-encryption keys of TESSERA_KEY_ENCRYPTION_KEY (and TESSERA_PREVIOUS_KEY_ENCRYPTION_KEY). */
  keyEncryption: KeyEncryptionKeys;
  /** Client secrets hashed as the servers hash them. */
  secretHasher: ClientSecretHasher;
  /** Registers, rotates, disables clients (on the storage's clients, uncached). */
  registrar: ClientRegistrar;
  /** Creates, disables users, sets passwords, revokes consents, with the servers' password hasher. */
  users: UserDirectory;
  /** The signing keys as the servers hold them, for `algorithm`; not loaded (call `init` or `rotate`), to be closed. */
  keySet(algorithm?: SigningAlgorithm): KeySet;
}

/** A built authorization server: its endpoints and what they share. */
export interface AuthServer extends Administration {
  config: AuthServerConfig;
  passwordHasher: PasswordHasher;
  /** The clients the protocol reads: cached in memory, invalidated through the change feed. */
  clients: CachingClientRepository;
  /** The signing keys, loaded, followed through the change feed. */
  keys: KeySet;
  /** Reads the revocation log once per change notification (and on a short poll), for the feed's streams and the token cache. */
  revocationLog: RevocationBroadcaster;
  /** Opaque access tokens, with their claims cached in memory and kept exact by the revocation log. */
  accessTokens: CachingAccessTokenRepository;
  accessTokenIssuer: AccessTokenIssuer;
  refreshTokenIssuer: RefreshTokenIssuer;
  /** What the authorization endpoint calls once the user has signed in and consented. */
  authorizationCodeIssuer: AuthorizationCodeIssuer;
  /** The enabled grants, in TESSERA_GRANTS order. */
  grants: Grant[];
  token: TokenEndpoint;
  introspection: IntrospectionEndpoint;
  revocation: RevocationEndpoint;
  revocationFeed: RevocationFeedEndpoint;
  /** RFC 7591 registration; null when TESSERA_INITIAL_ACCESS_TOKEN is unset. */
  registration: RegistrationEndpoint | null;
  /** RFC 7592 client configuration endpoint; exists with registration (null when TESSERA_INITIAL_ACCESS_TOKEN is unset). */
  clientConfiguration: ClientConfigurationEndpoint | null;
  /** The authorization endpoint (and its pages); null when the authorization_code grant is not enabled. */
  authorization: AuthorizationEndpoint | null;
  signIn: SignIn;
  /** The rate limits of the token, introspection, revocation and registration endpoints; null when off. */
  rateLimits: RequestRateLimits | null;
  /** What counts the requests of `rateLimits`, shared through the storage; null when off. */
  rateLimiter: RateLimiter | null;
  /** RFC 8414 metadata, built at each call: the signing algorithms change when a key is rotated. */
  metadata(): Record<string, unknown>;
  /** Stops following the change feed (the storage's own connections are its owner's to close). */
  close(): void;
}

/** The key-encryption keys the configuration names. */
function keyEncryptionKeys(config: AuthServerConfig): KeyEncryptionKeys {
  return new KeyEncryptionKeys({ current: config.tokens.keyEncryptionKey, previous: config.tokens.previousKeyEncryptionKey });
}

/**
 * The operator's view of a server: its settings, its storage, the same hashers and key encryption. Synchronous
 * and inert, so a command that fails to read a signing key still lists clients.
 */
export function composeAdministration(config: AuthServerConfig, storage: ServerStorage, options: ComposeOptions = {}): Administration {
  const clock = options.clock ?? new SystemClock();
  const random = options.random ?? new CryptoRandomSource();
  const passwordHasher = options.passwordHasher ?? defaultPasswordHasher();
  const audit = options.audit ?? new NoAuditLog();
  const keyEncryption = keyEncryptionKeys(config);
  const secretHasher = new ClientSecretHasher({ pepper: config.tokens.clientSecretPepper, keys: keyEncryption });
  return {
    clock,
    audit,
    random,
    keyEncryption,
    secretHasher,
    registrar: new ClientRegistrar(storage.clients, secretHasher, random, clock, audit, 'operator'),
    users: new UserDirectory(storage.users, passwordHasher, clock, { consents: storage.consents, clients: storage.clients }, audit),
    keySet: (algorithm = config.tokens.signingAlgorithm) =>
      new KeySet(storage.signingKeys, storage.changes, clock, {
        algorithm,
        encryption: keyEncryption,
        maxTokenTtlSeconds: config.tokens.maxAccessTokenTtl,
        logger: options.logger,
        audit,
      }),
  };
}

/**
 * Builds the authorization server from its configuration and storage: loads (or creates) the signing keys, then
 * wires every endpoint. Only the enabled grants are built; the supported-grant list comes from them.
 */
export async function composeAuthServer(config: AuthServerConfig, storage: ServerStorage, options: ComposeOptions = {}): Promise<AuthServer> {
  const passwordHasher = options.passwordHasher ?? defaultPasswordHasher();
  const base = composeAdministration(config, storage, { ...options, passwordHasher });
  const { clock, random, secretHasher, audit } = base;
  const issuerUrl = config.issuer.url;

  const clients = new CachingClientRepository(storage.clients, storage.changes, clock);
  const keys = base.keySet();

  // The log, read once per notification (and every poll), for every follower of this process: the feed's streams
  // and the access-token cache. Read at least as often as the feed's heartbeats go out, since each follows a read.
  const pollMs = Math.min(REVOCATION_POLL_MS, Math.round(config.revocations.heartbeatSeconds * 1000));
  let clearTokenCache = () => {};
  const revocationLog = new RevocationBroadcaster(
    storage.revocations,
    storage.changes,
    {
      failed: (error) => {
        // Entries may be missed meanwhile; the fence would send every token to the database anyway.
        clearTokenCache();
        options.revocationReads?.failed?.(error);
      },
      recovered: () => options.revocationReads?.recovered?.(),
    },
    pollMs,
  );
  try {
    await keys.init();
    await revocationLog.start();
  } catch (error) {
    revocationLog.stop();
    keys.close();
    clients.close();
    throw error;
  }
  // Introspection answers a cached token once a read of the log's latest seq (shared by concurrent calls) shows
  // that every revocation committed before the call, on any instance, has been applied to the cache.
  const fence = new RevocationLogFence(() => storage.revocations.latestSeq());
  const accessTokens = new CachingAccessTokenRepository(storage.accessTokens, storage.revocations, revocationLog, fence, storage.changes, clock, options.accessTokenCache);
  clearTokenCache = () => accessTokens.clear();

  const opaque = new OpaqueAccessTokenStrategy(accessTokens, random, clock);
  const jwt = new JwtAccessTokenStrategy(keys, storage.revocations, clock, issuerUrl);
  const accessTokenIssuer = new AccessTokenIssuer([opaque, jwt], random, clock, {
    issuer: issuerUrl,
    defaultTtl: config.tokens.accessTokenTtl,
    resourceFormats: config.tokens.resourceTokenFormats,
  });
  const inspector = new AccessTokenInspector([opaque, jwt], storage.revocations, clients);
  const onAuthenticated = options.onClientAuthenticated;
  const told = onAuthenticated && ((client: Client, params: FormParams) => onAuthenticated(client.clientId, params));
  const authenticator = new ClientAuthenticator(clients, secretHasher, undefined, told);
  const rateLimiter = config.rateLimits
    ? new RateLimiter(storage.rateLimits, clock, { ...config.rateLimits, logger: options.logger, observer: options.rateLimitObserver }).start()
    : null;
  const rateLimits = rateLimiter && config.rateLimits ? new RequestRateLimits(rateLimiter, config.rateLimits, options.rateLimitObserver) : null;
  // Each limited endpoint's own authenticator counts the requests of the clients that authenticated there.
  const limitedAuthenticator = (endpoint: 'token' | 'introspection' | 'revocation') =>
    rateLimits ? new ClientAuthenticator(clients, secretHasher, (client) => rateLimits.checkClient(endpoint, client.clientId), told) : authenticator;
  const refreshTokenIssuer = new RefreshTokenIssuer(storage.refreshTokens, random, clock, config.tokens.refreshTokenTtl, config.tokens.refreshTokenMaxLifetime);
  const authorizationCodeIssuer = new AuthorizationCodeIssuer(storage.authorizationCodes, random, clock, config.tokens.authorizationCodeTtl);

  const factories = { ...GRANT_FACTORIES, ...options.grantFactories };
  const grants = config.features.grants.map((g) =>
    factories[g]({ issuer: accessTokenIssuer, refreshTokenIssuer, codes: storage.authorizationCodes, refreshTokens: storage.refreshTokens, users: storage.users, clock, config, audit }),
  );
  const token = new TokenEndpoint(grants, limitedAuthenticator('token'));
  const introspection = new IntrospectionEndpoint(limitedAuthenticator('introspection'), inspector, { repo: storage.refreshTokens, users: storage.users, clock });
  const revocation = new RevocationEndpoint(limitedAuthenticator('revocation'), inspector, clock, storage.refreshTokens, audit);
  // The clients uncached: an open stream is checked again only when its client changed, and must see the change.
  const revocationFeed = new RevocationFeedEndpoint(authenticator, storage.revocations, storage.clients);
  // Registration writes through the cache, as every change the protocol makes to a client.
  const registrar = new ClientRegistrar(clients, secretHasher, random, clock, audit, 'registration');
  const registrationSettings = config.features.registration;
  const metadataPolicy = { grantTypes: token.grantTypes(), maxAccessTokenTtl: config.tokens.maxAccessTokenTtl };
  const registration = registrationSettings
    ? new RegistrationEndpoint(registrar, metadataPolicy, registrationSettings.initialAccessToken, issuerUrl)
    : null;
  // Reads the clients uncached (a token or a deletion is judged on what the database holds), writes through the cache.
  const clientConfiguration = registrationSettings ? new ClientConfigurationEndpoint(storage.clients, registrar, secretHasher, metadataPolicy, issuerUrl) : null;
  // The authorization endpoint and its pages exist when the code grant does.
  const pages = config.features.grants.includes('authorization_code');
  const authorization = pages ? new AuthorizationEndpoint(clients, storage.consents, authorizationCodeIssuer, clock, issuerUrl) : null;
  const signIn = new SignIn(base.users, storage.sessions, storage.signInFailures, random, clock, config.signIn, audit);

  return {
    ...base,
    registrar,
    config,
    passwordHasher,
    clients,
    keys,
    revocationLog,
    accessTokens,
    accessTokenIssuer,
    refreshTokenIssuer,
    authorizationCodeIssuer,
    grants,
    token,
    introspection,
    revocation,
    revocationFeed,
    registration,
    clientConfiguration,
    authorization,
    signIn,
    rateLimits,
    rateLimiter,
    metadata: () =>
      authorizationServerMetadata({
        issuer: issuerUrl,
        grantTypes: token.grantTypes(),
        registrationEnabled: registration !== null,
        scopesSupported: config.features.scopesSupported,
        signingAlgorithms: keys.algorithms(),
        authorizationEndpoint: pages,
        clientAuthMethods: {
          token: acceptedAuthMethods(token.clientAuth),
          revocation: acceptedAuthMethods(RevocationEndpoint.clientAuth),
          introspection: acceptedAuthMethods(IntrospectionEndpoint.clientAuth),
        },
      }),
    close: () => {
      rateLimiter?.close();
      accessTokens.close();
      revocationLog.stop();
      keys.close();
      clients.close();
    },
  };
}
