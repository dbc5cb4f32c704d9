// RFC 6749 §4.1.2: the authorization response's code, bound to everything the token request must match.
import { randomUUID } from 'node:crypto';
import type { Client } from '../domain/client.js';
import { OAuthError } from '../errors/oauth-error.js';
import { isS256Challenge } from '../grants/pkce.js';
import { AuthorizationCodeRepository } from '../ports/authorization-code.repository.js';
import type { Clock } from '../ports/clock.port.js';
import type { RandomSource } from '../ports/random.port.js';
import { hashToken } from './token-hash.js';

export const AUTHORIZATION_CODE_PREFIX = 'tsr_ac_';
export const AUTHORIZATION_CODE_SHAPE = /^tsr_ac_[A-Za-z0-9_-]{43}$/;

export interface AuthorizationCodeRequest {
  client: Client;
  redirectUri: string;
  codeChallenge: string;
  codeChallengeMethod: 'S256';
  scope: string[];
  /** RFC 8707 audiences, already resolved for the client. */
  resources: string[];
  /** The signed-in user's id. */
  subject: string;
}

/** Called by the authorization endpoint once the user has signed in and consented. */
export class AuthorizationCodeIssuer {
  constructor(
    private readonly repo: AuthorizationCodeRepository,
    private readonly random: RandomSource,
    private readonly clock: Clock,
    /** Lifetime of a code, seconds (RFC 6749 §4.1.2: short, 10 minutes at most). */
    private readonly ttl: number,
  ) {}

  async issue(request: AuthorizationCodeRequest): Promise<string> {
    const { client, redirectUri, codeChallenge, codeChallengeMethod } = request;
    // The endpoint validates all this for the user's sake; the issuer refuses to bind a code to anything else.
    if ((codeChallengeMethod as string) !== 'S256') throw OAuthError.invalidRequest('code_challenge_method must be S256');
    if (!isS256Challenge(codeChallenge)) throw OAuthError.invalidRequest('code_challenge must be a S256 challenge');
    if (!client.redirectUris.includes(redirectUri)) throw OAuthError.invalidRequest('redirect_uri is not registered for this client');
    if (!client.grantTypes.includes('authorization_code')) throw OAuthError.unauthorizedClient('this client may not use the authorization_code grant');
    const code = AUTHORIZATION_CODE_PREFIX + this.random.token(32);
    const issuedAt = this.clock.now();
    await this.repo.insert(hashToken(code), {
      clientId: client.clientId,
      subject: request.subject,
      redirectUri,
      codeChallenge,
      codeChallengeMethod: 'S256',
      scope: [...request.scope],
      audience: [...request.resources],
      grantId: randomUUID(),
      issuedAt,
      expiresAt: new Date(issuedAt.getTime() + this.ttl * 1000),
    });
    return code;
  }
}
