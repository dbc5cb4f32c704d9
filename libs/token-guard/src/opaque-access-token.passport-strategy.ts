// Opaque access tokens, checked by introspection (RFC 7662) through the cache.
import { PassportStrategy } from '@nestjs/passport';
import { Strategy as BearerStrategy } from 'passport-http-bearer';
import { OAuthError } from '@tessera/oauth-core';
import type { IntrospectionCache } from './introspection.cache.js';
import type { TokenRecord } from './verified-access-token.js';

export const OPAQUE_STRATEGY = 'tessera-opaque';

export class OpaqueAccessTokenPassportStrategy extends PassportStrategy(BearerStrategy, OPAQUE_STRATEGY) {
  /** Without an introspection cache (no introspection credentials configured) every opaque token is refused. */
  constructor(private readonly introspection: IntrospectionCache | undefined) {
    super();
  }

  async validate(token: string): Promise<TokenRecord> {
    if (!this.introspection) throw OAuthError.invalidToken('opaque tokens are not accepted here');
    const outcome = await this.introspection.check(token);
    if (!outcome.active) throw OAuthError.invalidToken(outcome.reason);
    return outcome.record;
  }
}
