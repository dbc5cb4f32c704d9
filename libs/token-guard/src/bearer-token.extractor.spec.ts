import { OAuthError } from '@tessera/oauth-core';
import { bearerCredentialsAsSent, extractBearerToken } from './bearer-token.extractor.js';

const JWT = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln';

function extract(authorization: string | undefined, url = '/r', allowQuery = false) {
  return extractBearerToken({ authorization, url }, allowQuery);
}

function refusal(fn: () => unknown): { code: string; description: string } {
  try {
    fn();
  } catch (error) {
    if (error instanceof OAuthError) return { code: error.code, description: error.description };
    throw error;
  }
  throw new Error('expected a refusal');
}

describe('extractBearerToken (RFC 6750 §2)', () => {
  it('reads the Authorization header, with the scheme in any case', () => {
    expect(extract(`Bearer ${JWT}`)).toBe(JWT);
    expect(extract('bearer tsr_at_abc-DEF_123')).toBe('tsr_at_abc-DEF_123');
    expect(extract('BEARER a+b/c==')).toBe('a+b/c==');
  });

  it('finds no token without a header, with another scheme, or with an empty header', () => {
    expect(extract(undefined)).toBeUndefined();
    expect(extract('')).toBeUndefined();
    expect(extract('Basic dXNlcjpwYXNz')).toBeUndefined();
    expect(extract('Bearertoken')).toBeUndefined();
  });

  it('refuses a malformed Bearer header with invalid_request', () => {
    for (const header of ['Bearer', 'Bearer ', 'Bearer a b', 'Bearer a"b', 'Bearer =abc', 'Bearer tok\u00e9n']) {
      expect(refusal(() => extract(header))).toEqual({ code: 'invalid_request', description: 'malformed Bearer authorization header' });
    }
  });

  it('refuses the access_token query parameter unless allowed', () => {
    expect(refusal(() => extract(undefined, '/r?access_token=abc'))).toEqual({
      code: 'invalid_request',
      description: 'access tokens are not accepted in the query string',
    });
    expect(extract(undefined, '/r?x=1&access_token=abc', true)).toBe('abc');
    expect(extract(undefined, '/r?access_token_x=abc')).toBeUndefined();
  });

  it('refuses two methods at once, a repeated or malformed query token', () => {
    expect(refusal(() => extract('Bearer abc', '/r?access_token=abc', true))).toEqual({
      code: 'invalid_request',
      description: 'more than one method was used to send the access token',
    });
    expect(refusal(() => extract(undefined, '/r?access_token=a&access_token=b', true)).description).toBe('the access_token parameter is repeated');
    expect(refusal(() => extract(undefined, '/r?access_token=', true)).description).toBe('malformed access_token parameter');
    expect(refusal(() => extract(undefined, '/r?access_token=a%20b', true)).description).toBe('malformed access_token parameter');
  });

  it('hands over what follows "Bearer " as sent, unchecked, for the cache lookup only', () => {
    expect(bearerCredentialsAsSent(`bEaReR ${JWT}`)).toBe(JWT);
    expect(bearerCredentialsAsSent('Bearer a b"c')).toBe('a b"c'); // never cached, so never found
    for (const header of ['Bearer', 'Bearer ', 'Basic dXNlcjpwYXNz', 'Bearertoken']) expect(bearerCredentialsAsSent(header)).toBeUndefined();
  });
});
