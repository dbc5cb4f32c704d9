import { OAuthError } from '@tessera/oauth-core';
import { checkIntrospectionResponse } from './introspection.client.js';

const NOW = Date.parse('2026-01-01T00:00:00Z');
const now = NOW / 1000;
const expected = { issuer: 'https://as.example', audience: 'https://api.example', clockToleranceSeconds: 5 };
const ACTIVE = {
  active: true,
  scope: 'read write',
  client_id: 'client-1',
  token_type: 'Bearer',
  exp: now + 60,
  iat: now,
  sub: 'client-1',
  aud: 'https://api.example',
  iss: 'https://as.example',
  jti: 'jti-1',
};

const check = (body: Record<string, unknown>) => checkIntrospectionResponse(body, expected, NOW);

describe('checkIntrospectionResponse (RFC 7662 §2.2, from the resource side)', () => {
  it('turns an active answer for us into a verified token', () => {
    expect(check(ACTIVE)).toEqual({
      active: true,
      record: {
        token: {
          subject: 'client-1',
          clientId: 'client-1',
          scopes: ['read', 'write'],
          audience: ['https://api.example'],
          issuer: 'https://as.example',
          expiresAt: new Date((now + 60) * 1000),
          jti: 'jti-1',
          format: 'opaque',
        },
        issuedAt: now,
        grantId: null,
      },
    });
    // Tessera's grant_id: kept, so the feed's marks for that grant match the cached answer.
    const granted = check({ ...ACTIVE, grant_id: '6f1c2b1e-0000-4000-8000-000000000001' });
    expect(granted.active && granted.record.grantId).toBe('6f1c2b1e-0000-4000-8000-000000000001');
  });

  it.each([
    [{ active: false }, 'token is not active'],
    [{ ...ACTIVE, iss: 'https://evil.example' }, 'unexpected issuer'],
    [{ ...ACTIVE, iss: undefined }, 'unexpected issuer'],
    [{ ...ACTIVE, aud: 'https://other.example' }, 'unexpected audience'],
    [{ ...ACTIVE, aud: ['https://other.example'] }, 'unexpected audience'],
    [{ ...ACTIVE, aud: undefined }, 'unexpected audience'],
    [{ ...ACTIVE, token_type: 'refresh_token' }, 'not an access token'],
    [{ ...ACTIVE, grant_id: 7 }, 'token lacks required claims'],
    [{ ...ACTIVE, exp: now - 6 }, 'token expired'],
    [{ ...ACTIVE, nbf: now + 6 }, 'token not yet valid'],
    [{ ...ACTIVE, jti: undefined }, 'token lacks required claims'],
  ])('refuses %j: %s', (body, reason) => {
    expect(check(body)).toEqual({ active: false, reason });
  });

  it('accepts several audiences that include ours, and expiry within the clock tolerance', () => {
    expect(check({ ...ACTIVE, aud: ['https://other.example', 'https://api.example'], exp: now - 4 }).active).toBe(true);
  });

  it('treats an answer without `active` as the auth server failing', () => {
    expect(() => check({ error: 'invalid_client' })).toThrow(OAuthError);
    expect(() => check({ error: 'invalid_client' })).toThrow('temporarily_unavailable');
  });
});
