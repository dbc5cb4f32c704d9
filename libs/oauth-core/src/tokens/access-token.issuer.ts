import type { AccessTokenFormat, Client } from '../domain/client.js';
import type { IssuedAccessToken } from '../domain/token.js';
import { OAuthError } from '../errors/oauth-error.js';
import { AccessTokenStrategy } from '../ports/access-token.strategy.js';
import type { Clock } from '../ports/clock.port.js';
import type { RandomSource } from '../ports/random.port.js';

export interface AccessTokenIssuerOptions {
  issuer: string;
  /** Lifetime when the client sets none, in seconds. */
  defaultTtl: number;
  /**
   * Formats that resources (RFC 8707 audiences) require, overriding the
   * client's: a resource server that cannot introspect wants JWTs, one that
   * wants revocation without a feed wants opaque tokens.
   */
  resourceFormats?: Readonly<Record<string, AccessTokenFormat>>;
}

export interface AccessTokenGrant {
  client: Client;
  subject: string;
  scope: string[];
  audience: string[];
  grantId?: string | null;
}

/** Issues an access token in the format its resources require, else the client's. The format is data, the strategies do the rest. */
export class AccessTokenIssuer {
  private readonly strategies: Map<AccessTokenFormat, AccessTokenStrategy>;
  private readonly resourceFormats: Map<string, AccessTokenFormat>;

  constructor(
    strategies: AccessTokenStrategy[],
    private readonly random: RandomSource,
    private readonly clock: Clock,
    private readonly options: AccessTokenIssuerOptions,
  ) {
    this.strategies = new Map(strategies.map((s) => [s.format, s]));
    this.resourceFormats = new Map(Object.entries(options.resourceFormats ?? {}));
  }

  async issue(grant: AccessTokenGrant): Promise<IssuedAccessToken> {
    const format = this.formatFor(grant);
    const strategy = this.strategies.get(format);
    if (!strategy) throw new Error(`no strategy for access token format ${format}`);
    const expiresIn = grant.client.accessTokenTtl ?? this.options.defaultTtl;
    const iat = this.clock.nowSeconds();
    const claims = {
      jti: this.random.token(16),
      iss: this.options.issuer,
      sub: grant.subject,
      clientId: grant.client.clientId,
      aud: grant.audience,
      scope: grant.scope,
      iat,
      exp: iat + expiresIn,
      grantId: grant.grantId ?? null,
      format,
    };
    const token = await strategy.issue(claims);
    return { token, claims, expiresIn };
  }

  private formatFor(grant: AccessTokenGrant): AccessTokenFormat {
    const required = new Set(grant.audience.flatMap((aud) => this.resourceFormats.get(aud) ?? []));
    if (required.size > 1) throw OAuthError.invalidTarget('these resources require different access token formats; request a token for each');
    return required.values().next().value ?? grant.client.accessTokenFormat;
  }
}
