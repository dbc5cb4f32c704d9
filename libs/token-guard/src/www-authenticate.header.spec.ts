import { bearerChallenge } from './www-authenticate.header.js';

describe('bearerChallenge (RFC 6750 §3)', () => {
  it('has only the realm when the request carried no token', () => {
    expect(bearerChallenge({ realm: 'https://api.example' })).toBe('Bearer realm="https://api.example"');
  });

  it('names the error and its description', () => {
    expect(bearerChallenge({ realm: 'api', error: 'invalid_token', errorDescription: 'token expired' })).toBe(
      'Bearer realm="api", error="invalid_token", error_description="token expired"',
    );
  });

  it('lists the required scopes for insufficient_scope', () => {
    expect(bearerChallenge({ realm: 'api', error: 'insufficient_scope', scope: ['read', 'admin'] })).toBe(
      'Bearer realm="api", error="insufficient_scope", scope="read admin"',
    );
  });

  it('drops what a quoted value may not hold: quotes, backslashes, control and non-ASCII characters', () => {
    expect(bearerChallenge({ realm: 'a"b\\c\r\nd', error: 'invalid_token', errorDescription: 'caf\u00e9 "x"' })).toBe(
      'Bearer realm="abcd", error="invalid_token", error_description="caf x"',
    );
  });
});
