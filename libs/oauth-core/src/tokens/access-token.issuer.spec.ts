import { aClient } from '@tessera/testing';
import { CryptoRandomSource } from '@tessera/tokens';
import type { AccessTokenFormat } from '../domain/client.js';
import type { AccessTokenClaims } from '../domain/token.js';
import { AccessTokenStrategy } from '../ports/access-token.strategy.js';
import { FixedClock } from '../ports/clock.port.js';
import { AccessTokenIssuer } from './access-token.issuer.js';

/** Writes the format into the token, so the test sees which strategy ran. */
class LabelStrategy extends AccessTokenStrategy {
  constructor(readonly format: AccessTokenFormat) {
    super();
  }
  recognizes(token: string): boolean {
    return token.startsWith(`${this.format}:`);
  }
  async issue(claims: AccessTokenClaims): Promise<string> {
    return `${this.format}:${claims.jti}`;
  }
  async verify(): Promise<AccessTokenClaims | null> {
    return null;
  }
  async revoke(): Promise<void> {}
}

const API = 'https://api.example';
const FAST = 'https://fast.example';
const issuer = new AccessTokenIssuer([new LabelStrategy('opaque'), new LabelStrategy('jwt')], new CryptoRandomSource(), new FixedClock(), {
  issuer: 'https://as.example',
  defaultTtl: 3600,
  resourceFormats: { [FAST]: 'jwt', [API]: 'opaque' },
});
const issue = (format: AccessTokenFormat, audience: string[]) =>
  issuer.issue({ client: aClient({ accessTokenFormat: format }), subject: 's', scope: [], audience });

describe('AccessTokenIssuer', () => {
  it("issues in the client's format when no resource requires one", async () => {
    for (const format of ['opaque', 'jwt'] as const) {
      const issued = await issue(format, ['https://other.example']);
      expect(issued.token.startsWith(`${format}:`)).toBe(true);
      expect(issued.claims.format).toBe(format);
    }
  });

  it("issues in the format a resource requires, whatever the client's", async () => {
    expect((await issue('opaque', [FAST])).claims.format).toBe('jwt');
    expect((await issue('jwt', [API])).claims.format).toBe('opaque');
    expect((await issue('opaque', [FAST, 'https://other.example'])).claims.format).toBe('jwt');
  });

  it('refuses one token for resources that require different formats', async () => {
    await expect(issue('opaque', [FAST, API])).rejects.toMatchObject({ code: 'invalid_target' });
  });

  it('is not fooled by audiences named like object properties', async () => {
    expect((await issue('opaque', ['constructor', '__proto__', 'toString'])).claims.format).toBe('opaque');
  });
});
