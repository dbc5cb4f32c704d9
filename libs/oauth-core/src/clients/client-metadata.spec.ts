import { parseClientMetadata } from './client-metadata.js';

const policy = { grantTypes: ['client_credentials'], maxAccessTokenTtl: 86400 };

describe('parseClientMetadata', () => {
  it('applies defaults and ignores unknown members', () => {
    expect(parseClientMetadata({ client_name: 'svc', scope: 'a b', whatever: 1 }, policy)).toEqual({
      clientName: 'svc',
      grantTypes: ['client_credentials'],
      scopes: ['a', 'b'],
      tokenEndpointAuthMethod: 'client_secret_basic',
      redirectUris: [],
      accessTokenFormat: 'opaque',
      accessTokenTtl: null,
      resources: [],
      resourceServerFor: [],
    });
  });
  it('reads Tessera extensions', () => {
    const m = parseClientMetadata(
      { access_token_format: 'jwt', access_token_lifetime: 600, resources: ['https://api.example'], token_endpoint_auth_method: 'client_secret_post' },
      policy,
    );
    expect(m).toMatchObject({ accessTokenFormat: 'jwt', accessTokenTtl: 600, resources: ['https://api.example'], tokenEndpointAuthMethod: 'client_secret_post' });
  });
  it.each([
    [[], 'JSON object'],
    [{ grant_types: ['password'] }, 'not supported'],
    [{ grant_types: 'client_credentials' }, 'array'],
    [{ token_endpoint_auth_method: 'private_key_jwt' }, 'token_endpoint_auth_method'],
    [{ scope: 7 }, 'scope'],
    [{ scope: 'a  b' }, 'scope'],
    [{ access_token_format: 'paseto' }, 'access_token_format'],
    [{ access_token_lifetime: 10 }, 'access_token_lifetime'],
    [{ access_token_lifetime: 1.5 }, 'access_token_lifetime'],
    [{ resources: ['relative'] }, 'resources'],
    [{ client_name: 'x'.repeat(201) }, 'client_name'],
    [{ client_name: 'a\u0000b' }, 'client_name must not contain control characters'],
    [{ client_name: 'Bank\u202Egnp.exe' }, 'client_name must not contain control or bidirectional'],
    [{ client_name: '\u2066x\u2069' }, 'client_name must not contain control or bidirectional'],
    [{ grant_types: ['client_credentials\u0000'] }, 'grant_types must not contain control characters'],
    [{ resources: ['https://api.example/\n'] }, 'resources must not contain control characters'],
    [{ resources: ['https://api.example/caf\u00e9'] }, 'resources[0] is not an absolute URI'],
  ])('refuses %j as invalid_client_metadata', (body, msg) => {
    expect(() => parseClientMetadata(body, policy)).toThrow(expect.objectContaining({ code: 'invalid_client_metadata', description: expect.stringContaining(msg) }));
  });
  it.each([
    'http://evil.example/cb',
    'https://a.example/cb#x',
    'nope',
    'https://a.example/cb\r\n',
    'https://a.example/c b',
    'https://u@a.example/cb',
    'https://u:p@a.example/cb',
    'https://*.a.example/cb',
    'https://a.example/*',
    'https:///cb',
    'https:a.example/cb',
    'https://a.example\\@b.example/',
    'https://a.example/%zz',
    'https://a.example/caf\u00e9',
  ])('refuses redirect URI %j', (uri) => {
    expect(() => parseClientMetadata({ redirect_uris: [uri] }, policy)).toThrow(expect.objectContaining({ code: 'invalid_redirect_uri' }));
  });

  describe('with the authorization_code and refresh_token grants enabled', () => {
    const all = { grantTypes: ['client_credentials', 'authorization_code', 'refresh_token'], maxAccessTokenTtl: 86400 };
    const cb = ['https://app.example/cb'];

    it('registers a public client (none) for code and refresh', () => {
      expect(
        parseClientMetadata({ token_endpoint_auth_method: 'none', grant_types: ['authorization_code', 'refresh_token'], redirect_uris: cb }, all),
      ).toMatchObject({ tokenEndpointAuthMethod: 'none', grantTypes: ['authorization_code', 'refresh_token'], redirectUris: cb });
    });

    it('defaults to authorization_code with redirect_uris, else to client_credentials', () => {
      expect(parseClientMetadata({ redirect_uris: cb }, all).grantTypes).toEqual(['authorization_code']);
      expect(parseClientMetadata({}, all).grantTypes).toEqual(['client_credentials']);
    });

    it('requires redirect_uris for authorization_code', () => {
      expect(() => parseClientMetadata({ grant_types: ['authorization_code'] }, all)).toThrow(
        expect.objectContaining({ code: 'invalid_redirect_uri', description: expect.stringContaining('required') }),
      );
    });

    it.each([
      [{ token_endpoint_auth_method: 'none' }, 'public client'],
      [{ token_endpoint_auth_method: 'none', grant_types: ['client_credentials', 'authorization_code'], redirect_uris: cb }, 'public client'],
      [{ grant_types: ['refresh_token'] }, 'needs "authorization_code"'],
    ])('refuses %j', (body, msg) => {
      expect(() => parseClientMetadata(body, all)).toThrow(expect.objectContaining({ code: 'invalid_client_metadata', description: expect.stringContaining(msg) }));
    });

    it('refuses grants the server has not enabled', () => {
      expect(() => parseClientMetadata({ grant_types: ['authorization_code'], redirect_uris: cb }, policy)).toThrow(
        expect.objectContaining({ code: 'invalid_client_metadata', description: 'grant_types: "authorization_code" is not supported' }),
      );
    });
  });
});
