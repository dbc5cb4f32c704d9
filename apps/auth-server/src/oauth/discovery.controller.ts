import { Controller, Get, Header, Inject } from '@nestjs/common';
import { KeySet } from '@tessera/tokens';
import { DISCOVERY_METADATA } from './oauth.tokens.js';

/**
 * RFC 8414 metadata and the JWKS. No `/.well-known/openid-configuration`: Tessera issues no ID
 * tokens, and an OpenID Connect library reading that document would expect them.
 */
@Controller('.well-known')
export class DiscoveryController {
  constructor(
    @Inject(DISCOVERY_METADATA) private readonly metadata: () => Record<string, unknown>,
    private readonly keys: KeySet,
  ) {}

  @Get('oauth-authorization-server')
  @Header('Cache-Control', 'public, max-age=300')
  authorizationServer() {
    return this.metadata();
  }

  /** Short max-age: a rotated key must reach verifiers well before the old one's tokens expire. */
  @Get('jwks.json')
  @Header('Cache-Control', 'public, max-age=300')
  @Header('Content-Type', 'application/jwk-set+json')
  jwks() {
    return this.keys.jwks();
  }
}
