import { grantedScopes, parseScope } from './scope.js';
import { resolveAudience } from './resource.js';

describe('scope', () => {
  it('parses scope tokens separated by single spaces', () => {
    expect(parseScope('a b:c a')).toEqual(['a', 'b:c']);
    expect(parseScope(undefined)).toEqual([]);
  });
  it.each(['a  b', ' a', 'a "b"', 'a\\b', 'é'])('refuses %j', (s) => {
    expect(() => parseScope(s)).toThrow(expect.objectContaining({ code: 'invalid_scope' }));
  });
  it('grants requested scopes within the allowed ones, or all allowed by default', () => {
    expect(grantedScopes(['read'], ['read', 'write'])).toEqual(['read']);
    expect(grantedScopes([], ['read', 'write'])).toEqual(['read', 'write']);
    expect(() => grantedScopes(['admin'], ['read'])).toThrow(/admin/);
  });
});

describe('resolveAudience', () => {
  const issuer = 'https://as.example';
  it('uses requested resources the client may use', () => {
    expect(resolveAudience(['https://api.example'], { resources: ['https://api.example', 'https://b'] }, issuer)).toEqual(['https://api.example']);
    expect(() => resolveAudience(['https://other'], { resources: ['https://api.example'] }, issuer)).toThrow(
      expect.objectContaining({ code: 'invalid_target' }),
    );
  });
  it('defaults to the registered resources, else the issuer', () => {
    expect(resolveAudience([], { resources: ['https://a', 'https://b'] }, issuer)).toEqual(['https://a', 'https://b']);
    expect(resolveAudience([], { resources: [] }, issuer)).toEqual([issuer]);
  });
  it.each(['relative/path', 'https://a.example/#frag', 'not a uri'])('refuses %j as invalid_target', (r) => {
    expect(() => resolveAudience([r], { resources: [] }, issuer)).toThrow(expect.objectContaining({ code: 'invalid_target' }));
  });
});
