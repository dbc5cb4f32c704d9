import { hashToken } from '../tokens/token-hash.js';
import { s256Challenge, verifiesS256 } from './pkce.js';
import { API, aVerifier, form, REDIRECT_URI, userGrantsSetup } from './user-grants.spec-setup.js';

describe('PKCE (RFC 7636)', () => {
  it('matches the RFC 7636 appendix B example', () => {
    expect(s256Challenge('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk')).toBe('E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM');
    expect(verifiesS256('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk', 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM')).toBe(true);
  });

  it.each(['short', 'x'.repeat(129), `${'a'.repeat(42)} `, `${'a'.repeat(42)}+`])('refuses the verifier %j', (v) => {
    expect(verifiesS256(v, s256Challenge(v))).toBe(false);
  });
});

describe('AuthorizationCodeGrant (RFC 6749 §4.1.3, RFC 7636, RFC 9700)', () => {
  const redeem = (s: ReturnType<typeof userGrantsSetup>, credentials: Record<string, string>, values: Record<string, string | undefined>) =>
    s.endpoint.handle(undefined, form({ grant_type: 'authorization_code', redirect_uri: REDIRECT_URI, ...credentials, ...values }));

  it.each(['confidential', 'public'] as const)('gives a %s client an access token for the user, and a refresh token', async (kind) => {
    const s = userGrantsSetup();
    const { client, credentials } = await s.addClient(kind);
    const user = await s.addUser();
    const { code, verifier } = await s.issueCode(client, user, { scope: ['read'] });
    const result = await redeem(s, credentials, { code, code_verifier: verifier });
    expect(result).toEqual({
      accessToken: expect.stringMatching(/^tsr_at_/),
      tokenType: 'Bearer',
      expiresIn: 3600,
      scope: ['read'],
      refreshToken: expect.stringMatching(/^tsr_rt_[\w-]{43}$/),
    });
    expect(await s.introspect(result.accessToken)).toMatchObject({ active: true, sub: user.id, client_id: client.clientId, scope: 'read', aud: API });
  });

  it('issues no refresh token to a client without the refresh_token grant', async () => {
    const s = userGrantsSetup();
    const { client, credentials } = await s.addClient('confidential', { grantTypes: ['authorization_code'] });
    const { code, verifier } = await s.issueCode(client, await s.addUser());
    const result = await redeem(s, credentials, { code, code_verifier: verifier });
    expect(result.refreshToken).toBeUndefined();
  });

  it('stores the code only by hash, bound to everything the token request must match', async () => {
    const s = userGrantsSetup();
    const { client } = await s.addClient();
    const user = await s.addUser();
    const { code } = await s.issueCode(client, user);
    expect(code).toMatch(/^tsr_ac_[\w-]{43}$/);
    expect([...s.codes.codes.keys()]).toEqual([hashToken(code)]);
    expect(s.codes.codes.get(hashToken(code))!.code).toMatchObject({
      clientId: client.clientId,
      subject: user.id,
      redirectUri: REDIRECT_URI,
      codeChallengeMethod: 'S256',
      audience: [API],
      grantId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      expiresAt: new Date(s.clock.now().getTime() + 60_000),
    });
  });

  it('refuses a wrong code_verifier', async () => {
    const s = userGrantsSetup();
    const { client, credentials } = await s.addClient();
    const { code } = await s.issueCode(client, await s.addUser());
    await expect(redeem(s, credentials, { code, code_verifier: aVerifier() })).rejects.toMatchObject({ code: 'invalid_grant', status: 400 });
  });

  it('refuses a missing code_verifier', async () => {
    const s = userGrantsSetup();
    const { client, credentials } = await s.addClient('public');
    const { code } = await s.issueCode(client, await s.addUser());
    await expect(redeem(s, credentials, { code })).rejects.toMatchObject({ code: 'invalid_grant', description: expect.stringContaining('code_verifier') });
  });

  it('never accepts plain: the issuer refuses it, and a plain code in storage does not redeem', async () => {
    const s = userGrantsSetup();
    const { client, credentials } = await s.addClient();
    const user = await s.addUser();
    const verifier = aVerifier();
    await expect(s.issueCode(client, user, { codeChallenge: verifier, codeChallengeMethod: 'plain' as 'S256' })).rejects.toMatchObject({
      code: 'invalid_request',
    });
    const { code } = await s.issueCode(client, user);
    const stored = s.codes.codes.get(hashToken(code))!;
    Object.assign(stored.code, { codeChallenge: verifier, codeChallengeMethod: 'plain' });
    await expect(redeem(s, credentials, { code, code_verifier: verifier })).rejects.toMatchObject({ code: 'invalid_grant' });
  });

  it('refuses a redirect_uri that differs from the authorization request', async () => {
    const s = userGrantsSetup();
    const { client, credentials } = await s.addClient('confidential', { redirectUris: [REDIRECT_URI, 'https://app.example/other'] });
    const { code, verifier } = await s.issueCode(client, await s.addUser());
    await expect(redeem(s, credentials, { code, code_verifier: verifier, redirect_uri: 'https://app.example/other' })).rejects.toMatchObject({
      code: 'invalid_grant',
      description: expect.stringContaining('redirect_uri'),
    });
  });

  it('refuses a missing redirect_uri as invalid_request', async () => {
    const s = userGrantsSetup();
    const { client, credentials } = await s.addClient();
    const { code, verifier } = await s.issueCode(client, await s.addUser());
    await expect(s.endpoint.handle(undefined, form({ grant_type: 'authorization_code', ...credentials, code, code_verifier: verifier }))).rejects.toMatchObject({
      code: 'invalid_request',
    });
  });

  it('refuses an expired code', async () => {
    const s = userGrantsSetup();
    const { client, credentials } = await s.addClient();
    const { code, verifier } = await s.issueCode(client, await s.addUser());
    s.clock.advance(60);
    await expect(redeem(s, credentials, { code, code_verifier: verifier })).rejects.toMatchObject({ code: 'invalid_grant', description: expect.stringContaining('expired') });
  });

  it('refuses a code issued to another client, which stays usable by its own', async () => {
    const s = userGrantsSetup();
    const a = await s.addClient();
    const b = await s.addClient('public');
    const { code, verifier } = await s.issueCode(a.client, await s.addUser());
    await expect(redeem(s, b.credentials, { code, code_verifier: verifier })).rejects.toMatchObject({ code: 'invalid_grant' });
    await expect(redeem(s, a.credentials, { code, code_verifier: verifier })).resolves.toMatchObject({ tokenType: 'Bearer' });
  });

  it.each(['garbage', 'tsr_ac_' + 'A'.repeat(43)])('refuses the unknown code %j', async (code) => {
    const s = userGrantsSetup();
    const { credentials } = await s.addClient();
    await expect(redeem(s, credentials, { code, code_verifier: aVerifier() })).rejects.toMatchObject({ code: 'invalid_grant' });
  });

  it('refuses a second use, and revokes every token issued from the code (access and refresh)', async () => {
    const s = userGrantsSetup();
    const { client, credentials } = await s.addClient();
    const { code, verifier } = await s.issueCode(client, await s.addUser());
    const first = await redeem(s, credentials, { code, code_verifier: verifier });
    const refreshed = await s.endpoint.handle(undefined, form({ grant_type: 'refresh_token', ...credentials, refresh_token: first.refreshToken }));
    expect(await s.introspect(first.accessToken)).toMatchObject({ active: true });
    s.clock.advance(5);
    await expect(redeem(s, credentials, { code, code_verifier: verifier })).rejects.toMatchObject({
      code: 'invalid_grant',
      description: expect.stringContaining('already used'),
    });
    expect(await s.introspect(first.accessToken)).toEqual({ active: false });
    expect(await s.introspect(refreshed.accessToken)).toEqual({ active: false });
    await expect(
      s.endpoint.handle(undefined, form({ grant_type: 'refresh_token', ...credentials, refresh_token: refreshed.refreshToken })),
    ).rejects.toMatchObject({ code: 'invalid_grant' });
  });

  it('revokes the tokens of a code reused within the same second', async () => {
    const s = userGrantsSetup();
    const { client, credentials } = await s.addClient();
    const { code, verifier } = await s.issueCode(client, await s.addUser());
    const first = await redeem(s, credentials, { code, code_verifier: verifier });
    await expect(redeem(s, credentials, { code, code_verifier: verifier })).rejects.toMatchObject({ code: 'invalid_grant' });
    expect(await s.introspect(first.accessToken)).toEqual({ active: false });
  });

  it('refuses the code of a user disabled since', async () => {
    const s = userGrantsSetup();
    const { client, credentials } = await s.addClient();
    const user = await s.addUser();
    const { code, verifier } = await s.issueCode(client, user);
    await s.users.disable(user.id, s.clock.now());
    await expect(redeem(s, credentials, { code, code_verifier: verifier })).rejects.toMatchObject({ code: 'invalid_grant' });
  });

  it('narrows the audience with resource, and refuses one not granted', async () => {
    const s = userGrantsSetup();
    const { client, credentials } = await s.addClient('confidential', { resources: [API, 'https://b.example'] });
    const user = await s.addUser();
    const one = await s.issueCode(client, user, { resources: [API, 'https://b.example'] });
    const result = await redeem(s, credentials, { code: one.code, code_verifier: one.verifier, resource: API });
    expect(await s.introspect(result.accessToken)).toMatchObject({ aud: API });
    const two = await s.issueCode(client, user, { resources: [API] });
    await expect(redeem(s, credentials, { code: two.code, code_verifier: two.verifier, resource: 'https://b.example' })).rejects.toMatchObject({
      code: 'invalid_target',
    });
  });

  it('is refused to a client not registered for it, and to a public client presenting a secret it has not', async () => {
    const s = userGrantsSetup();
    const cc = await s.addClient('confidential', { grantTypes: ['client_credentials'] });
    await expect(redeem(s, cc.credentials, { code: 'x', code_verifier: aVerifier() })).rejects.toMatchObject({ code: 'unauthorized_client' });
    const pub = await s.addClient('public');
    await expect(redeem(s, { ...pub.credentials, client_secret: 'guess' }, { code: 'x', code_verifier: aVerifier() })).rejects.toMatchObject({
      code: 'invalid_client',
    });
  });

  it('lets a public client only present its client_id, not introspect', async () => {
    const s = userGrantsSetup();
    const pub = await s.addClient('public');
    await expect(s.introspection.handle(undefined, form({ ...pub.credentials, token: 'x' }))).rejects.toMatchObject({ code: 'invalid_client' });
  });
});
