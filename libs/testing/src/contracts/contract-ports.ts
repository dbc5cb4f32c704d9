import type {
  AccessTokenRepository,
  AuthorizationCodeRepository,
  ClientRepository,
  ConsentRepository,
  RateLimitRepository,
  RefreshTokenRepository,
  RevocationRepository,
  SessionRepository,
  SignInFailureRepository,
  SigningKeyRepository,
  UserRepository,
} from '@tessera/oauth-core';

/** An issued-before mark narrowed to a subject or a grant. */
export interface IssuedBeforeMark {
  clientId: string;
  subject?: string | null;
  grantId?: string | null;
  issuedBefore: Date;
  /** When the mark may be purged. */
  expiresAt?: Date;
}

/**
 * One implementation of every persistence port, sharing one store, empty when
 * handed out. Contracts take what they need of it.
 */
export interface ContractPorts {
  clients: ClientRepository;
  accessTokens: AccessTokenRepository;
  revocations: RevocationRepository;
  signingKeys: SigningKeyRepository;
  users: UserRepository;
  authorizationCodes: AuthorizationCodeRepository;
  refreshTokens: RefreshTokenRepository;
  sessions: SessionRepository;
  consents: ConsentRepository;
  signInFailures: SignInFailureRepository;
  rateLimits: RateLimitRepository;
  /** Seeds a mark no port writes yet (a later issue revokes by subject or grant), so `isRevoked` can be checked against it. */
  markIssuedBefore(mark: IssuedBeforeMark): Promise<void>;
}

export type MakePorts<K extends keyof ContractPorts> = () => Promise<Pick<ContractPorts, K>>;
