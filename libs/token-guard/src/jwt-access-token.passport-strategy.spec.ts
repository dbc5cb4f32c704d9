import { pinnedAlgorithms } from './jwt-access-token.passport-strategy.js';

describe('pinnedAlgorithms', () => {
  it('keeps the asymmetric algorithms the issuer advertises', () => {
    expect(pinnedAlgorithms(['ES256', 'PS384', 'RS512', 'EdDSA'])).toEqual(['ES256', 'PS384', 'RS512', 'EdDSA']);
  });

  it('never keeps none or an HMAC algorithm, even when advertised', () => {
    expect(pinnedAlgorithms(['none', 'HS256', 'HS512', 'EdDSA', 'ES256', 'foo'])).toEqual(['EdDSA', 'ES256']);
  });

  it('falls back to ES256, EdDSA and RS256 when the issuer advertises nothing', () => {
    expect(pinnedAlgorithms(undefined)).toEqual(['ES256', 'EdDSA', 'RS256']);
  });
});
