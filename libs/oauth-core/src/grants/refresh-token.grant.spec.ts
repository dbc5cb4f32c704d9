import { jest } from '@jest/globals';
import { hashToken } from '../tokens/token-hash.js';
import { API, form, REDIRECT_URI, REFRESH_TOKEN_MAX_LIFETIME, REFRESH_TOKEN_TTL, userGrantsSetup } from './user-grants.spec-setup.js';

describe('RefreshTokenGrant (RFC 6749 §6, OAuth 2.1 rotation)', () => {
  /** A client, a user, and the tokens of a redeemed code. */
  async function signedIn(kind: 'confidential' | 'public' = 'confidential') {
    const s = userGrantsSetup();
    const { client, credentials } = await s.addClient(kind);
    const user = await s.addUser();
    const { code, verifier } = await s.issueCode(client, user);
    const tokens = await s.endpoint.handle(
      undefined,
      form({ grant_type: 'authorization_code', ...credentials, code, code_verifier: verifier, redirect_uri: REDIRECT_URI }),
    );
    const refresh = (refreshToken: string | undefined, extra: Record<string, string> = {}, creds = credentials) =>
      s.endpoint.handle(undefined, form({ grant_type: 'refresh_token', ...creds, refresh_token: refreshToken, ...extra }));
    return { ...s, client, credentials, user, tokens, refresh };
  }

  it.each(['confidential', 'public'] as const)('rotates on every use (%s client): a new refresh token, the old one spent', async (kind) => {
    const s = await signedIn(kind);
    s.clock.advance(10);
    const next = await s.refresh(s.tokens.refreshToken);
    expect(next).toEqual({
      accessToken: expect.stringMatching(/^tsr_at_/),
      tokenType: 'Bearer',
      expiresIn: 3600,
      scope: ['read', 'write'],
      refreshToken: expect.stringMatching(/^tsr_rt_/),
    });
    expect(next.refreshToken).not.toBe(s.tokens.refreshToken);
    expect(await s.introspect(next.accessToken)).toMatchObject({ active: true, sub: s.user.id, aud: API, scope: 'read write' });
    const old = (await s.refreshTokens.findByHash(hashToken(s.tokens.refreshToken!)))!;
    const fresh = (await s.refreshTokens.findByHash(hashToken(next.refreshToken!)))!;
    expect(old.rotatedAt).toEqual(s.clock.now());
    expect(fresh).toMatchObject({ familyId: old.familyId, grantId: old.grantId, rotatedAt: null, revokedAt: null, scope: ['read', 'write'] });
    // The old access token stays valid: rotation is not revocation.
    expect(await s.introspect(s.tokens.accessToken)).toMatchObject({ active: true });
  });

  it('revokes the whole family when a rotated refresh token is used again', async () => {
    const s = await signedIn();
    const second = await s.refresh(s.tokens.refreshToken);
    const third = await s.refresh(second.refreshToken);
    s.clock.advance(5);
    await expect(s.refresh(s.tokens.refreshToken)).rejects.toMatchObject({ code: 'invalid_grant', description: expect.stringContaining('already used') });
    for (const t of [s.tokens.accessToken, second.accessToken, third.accessToken]) expect(await s.introspect(t)).toEqual({ active: false });
    await expect(s.refresh(third.refreshToken)).rejects.toMatchObject({ code: 'invalid_grant' });
    expect([...s.refreshTokens.tokens.values()].every((t) => t.revokedAt !== null)).toBe(true);
  });

  it('lets exactly one of two concurrent uses rotate', async () => {
    const s = await signedIn();
    const results = await Promise.allSettled([s.refresh(s.tokens.refreshToken), s.refresh(s.tokens.refreshToken)]);
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
  });

  it('writes the access token while the rotation runs, not after it (two statements at once); a rotation that loses still answers invalid_grant', async () => {
    const s = await signedIn();
    const rotate = s.refreshTokens.rotate.bind(s.refreshTokens);
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const rotations = jest.spyOn(s.refreshTokens, 'rotate').mockImplementation(async (...args) => {
      await held;
      return rotate(...args);
    });
    const inserts = jest.spyOn(s.accessTokenRepo, 'insert');
    const first = s.refresh(s.tokens.refreshToken);
    const second = s.refresh(s.tokens.refreshToken);
    await new Promise((resolve) => setImmediate(resolve)); // every pending step of both requests has run
    expect(rotations).toHaveBeenCalledTimes(2);
    expect(inserts).toHaveBeenCalledTimes(2); // while both rotations are still held
    release();
    const results = await Promise.allSettled([first, second]);
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    const won = results.find((r): r is PromiseFulfilledResult<Awaited<typeof first>> => r.status === 'fulfilled')!.value;
    // The loser's grant is revoked, so the access token written beside the winning rotation is inactive too.
    expect(await s.introspect(won.accessToken)).toEqual({ active: false });
  });

  it('refuses a refresh token of another client, without revoking it', async () => {
    const s = await signedIn();
    const other = await s.addClient();
    await expect(s.refresh(s.tokens.refreshToken, {}, other.credentials)).rejects.toMatchObject({ code: 'invalid_grant' });
    await expect(s.refresh(s.tokens.refreshToken)).resolves.toMatchObject({ tokenType: 'Bearer' });
  });

  it('refuses the refresh token of a disabled user, whose access tokens are inactive too', async () => {
    const s = await signedIn();
    const otherUser = await s.addUser();
    const { code, verifier } = await s.issueCode(s.client, otherUser);
    const others = await s.endpoint.handle(
      undefined,
      form({ grant_type: 'authorization_code', ...s.credentials, code, code_verifier: verifier, redirect_uri: REDIRECT_URI }),
    );
    await s.users.disable(s.user.id, s.clock.now());
    await expect(s.refresh(s.tokens.refreshToken)).rejects.toMatchObject({ code: 'invalid_grant' });
    expect(await s.introspect(s.tokens.accessToken)).toEqual({ active: false });
    expect(await s.introspect(others.accessToken)).toMatchObject({ active: true });
    await expect(s.refresh(others.refreshToken)).resolves.toMatchObject({ tokenType: 'Bearer' });
  });

  describe.each([
    ['the store reads the token and its user in one go', false],
    ['a store without findForRefresh (the user read after the token)', true],
  ])('the user at each refresh (%s)', (_, withoutFindForRefresh) => {
    async function signedInTo() {
      const s = await signedIn();
      if (withoutFindForRefresh) Object.assign(s.refreshTokens, { findForRefresh: undefined });
      return s;
    }

    it('refuses a disabled user even when the refresh token itself was not revoked, without spending the token', async () => {
      const s = await signedInTo();
      s.users.users.get(s.user.id)!.disabledAt = s.clock.now();
      await expect(s.refresh(s.tokens.refreshToken)).rejects.toMatchObject({ code: 'invalid_grant', description: 'the user is not allowed to sign in' });
      s.users.users.get(s.user.id)!.disabledAt = null;
      await expect(s.refresh(s.tokens.refreshToken)).resolves.toMatchObject({ tokenType: 'Bearer' });
    });

    it('refuses the refresh token of a deleted user', async () => {
      const s = await signedInTo();
      s.users.users.delete(s.user.id);
      const findById = jest.spyOn(s.users, 'findById');
      await expect(s.refresh(s.tokens.refreshToken)).rejects.toMatchObject({ code: 'invalid_grant', description: 'the user is not allowed to sign in' });
      expect(findById).toHaveBeenCalledTimes(withoutFindForRefresh ? 1 : 0);
    });

    it('still treats reuse as reuse (the grant revoked), whatever the user', async () => {
      const s = await signedInTo();
      const next = await s.refresh(s.tokens.refreshToken);
      await expect(s.refresh(s.tokens.refreshToken)).rejects.toMatchObject({ code: 'invalid_grant', description: expect.stringContaining('already used') });
      await expect(s.refresh(next.refreshToken)).rejects.toMatchObject({ code: 'invalid_grant' });
      expect(await s.introspect(next.accessToken)).toEqual({ active: false });
    });
  });

  it('grants a narrower scope on request, keeping the original one for the next refresh; a wider one is invalid_scope', async () => {
    const s = await signedIn();
    const narrow = await s.refresh(s.tokens.refreshToken, { scope: 'read' });
    expect(narrow.scope).toEqual(['read']);
    expect(await s.introspect(narrow.accessToken)).toMatchObject({ scope: 'read' });
    await expect(s.refresh(narrow.refreshToken, { scope: 'read admin' })).rejects.toMatchObject({ code: 'invalid_scope' });
    const again = await s.refresh(narrow.refreshToken);
    expect(again.scope).toEqual(['read', 'write']);
  });

  it('refuses an expired refresh token', async () => {
    const s = await signedIn();
    s.clock.advance(REFRESH_TOKEN_TTL);
    await expect(s.refresh(s.tokens.refreshToken)).rejects.toMatchObject({ code: 'invalid_grant', description: expect.stringContaining('expired') });
  });

  describe('absolute lifetime of a family', () => {
    const DAY = 86400;
    /** Signed in now; `at(seconds)` is that many seconds after the family's first token. */
    async function family() {
      const s = await signedIn();
      const familyIssuedAt = s.clock.now();
      const at = (seconds: number) => new Date(familyIssuedAt.getTime() + seconds * 1000);
      const stored = async (token: string | undefined) => (await s.refreshTokens.findByHash(hashToken(token!)))!;
      return { s, familyIssuedAt, at, stored };
    }

    it('carries the family’s issue time through rotation, capping each expiry at it plus the maximum lifetime', async () => {
      const { s, familyIssuedAt, at, stored } = await family();
      expect(await stored(s.tokens.refreshToken)).toMatchObject({ issuedAt: familyIssuedAt, familyIssuedAt, expiresAt: at(REFRESH_TOKEN_TTL) });
      let token = s.tokens.refreshToken;
      // Used every 25 days: 30 days each, until the family's 90 days cut the fourth token short.
      for (const [day, expiresAt] of [
        [25, at(55 * DAY)],
        [50, at(80 * DAY)],
        [75, at(REFRESH_TOKEN_MAX_LIFETIME)],
      ] as const) {
        s.clock.set(at(day * DAY));
        token = (await s.refresh(token)).refreshToken;
        expect(await stored(token)).toMatchObject({ issuedAt: at(day * DAY), familyIssuedAt, expiresAt });
      }
    });

    it('refuses a refresh at or after the cap as an expired token, even one rotated a second before it', async () => {
      const { s, at, stored } = await family();
      let token = s.tokens.refreshToken;
      for (const day of [29, 58, 87]) {
        s.clock.set(at(day * DAY));
        token = (await s.refresh(token)).refreshToken;
      }
      s.clock.set(at(REFRESH_TOKEN_MAX_LIFETIME - 1));
      const last = (await s.refresh(token)).refreshToken;
      expect(await stored(last)).toMatchObject({ expiresAt: at(REFRESH_TOKEN_MAX_LIFETIME) });
      s.clock.set(at(REFRESH_TOKEN_MAX_LIFETIME));
      await expect(s.refresh(last)).rejects.toMatchObject({ code: 'invalid_grant', description: 'refresh token expired' });
      s.clock.advance(DAY);
      await expect(s.refresh(last)).rejects.toMatchObject({ code: 'invalid_grant', description: 'refresh token expired' });
      // Expiry is not reuse: the family is left unrevoked.
      expect((await stored(last)).revokedAt).toBeNull();
    });
  });

  it.each([undefined, 'garbage', `tsr_rt_${'A'.repeat(43)}`])('refuses the refresh token %j', async (token) => {
    const s = await signedIn();
    await expect(s.refresh(token)).rejects.toMatchObject({ code: token === undefined ? 'invalid_request' : 'invalid_grant' });
  });

  describe('revocation (RFC 7009)', () => {
    it('revoking a refresh token revokes its family and the access tokens of its grant', async () => {
      const s = await signedIn();
      const next = await s.refresh(s.tokens.refreshToken);
      s.clock.advance(1);
      await s.revocation.handle(undefined, form({ ...s.credentials, token: next.refreshToken, token_type_hint: 'refresh_token' }));
      await expect(s.refresh(next.refreshToken)).rejects.toMatchObject({ code: 'invalid_grant' });
      expect(await s.introspect(next.accessToken)).toEqual({ active: false });
      expect(await s.introspect(s.tokens.accessToken)).toEqual({ active: false });
    });

    it('leaves another client’s refresh token alone, answering as for an unknown one', async () => {
      const s = await signedIn();
      const other = await s.addClient();
      await expect(s.revocation.handle(undefined, form({ ...other.credentials, token: s.tokens.refreshToken }))).resolves.toBeUndefined();
      await expect(s.revocation.handle(undefined, form({ ...s.credentials, token: `tsr_rt_${'B'.repeat(43)}` }))).resolves.toBeUndefined();
      await expect(s.refresh(s.tokens.refreshToken)).resolves.toMatchObject({ tokenType: 'Bearer' });
    });

    it('revoking an access token leaves the refresh token working', async () => {
      const s = await signedIn();
      await s.revocation.handle(undefined, form({ ...s.credentials, token: s.tokens.accessToken, token_type_hint: 'access_token' }));
      expect(await s.introspect(s.tokens.accessToken)).toEqual({ active: false });
      await expect(s.refresh(s.tokens.refreshToken)).resolves.toMatchObject({ tokenType: 'Bearer' });
    });
  });
});
