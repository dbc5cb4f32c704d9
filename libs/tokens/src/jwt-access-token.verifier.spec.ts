import { base64url, exportSPKI, generateKeyPair, SignJWT, type CryptoKey, type JWTHeaderParameters, type JWTPayload } from 'jose';
import { FixedClock, OAuthError } from '@tessera/oauth-core';
import { JwtAccessTokenVerifier, type JwtAccessTokenVerifierOptions } from './jwt-access-token.verifier.js';

const ISSUER = 'https://as.example';
const API = 'https://api.example';

describe('JwtAccessTokenVerifier', () => {
  let clock: FixedClock;
  let keys: { privateKey: CryptoKey; publicKey: CryptoKey };
  let now: number;

  beforeAll(async () => {
    keys = await generateKeyPair('ES256');
  });
  beforeEach(() => {
    clock = new FixedClock();
    now = clock.nowSeconds();
  });

  function verifier(options: Partial<JwtAccessTokenVerifierOptions> = {}): JwtAccessTokenVerifier {
    return new JwtAccessTokenVerifier({
      issuer: ISSUER,
      audience: API,
      algorithms: ['ES256'],
      getKey: (kid, alg) => (kid === 'k1' && alg === 'ES256' ? keys.publicKey : undefined),
      clock,
      ...options,
    });
  }

  /** A token over the default claims; an `undefined` override leaves that member out. */
  function sign(payload: JWTPayload = {}, header: Partial<JWTHeaderParameters> = {}): Promise<string> {
    return new SignJWT({
      iss: ISSUER,
      sub: 'user-1',
      aud: API,
      exp: now + 300,
      iat: now,
      jti: 'jti-1',
      client_id: 'client-1',
      scope: 'read write',
      ...payload,
    })
      .setProtectedHeader({ alg: 'ES256', kid: 'k1', typ: 'at+jwt', ...header })
      .sign(keys.privateKey);
  }

  async function rejection(token: string | Promise<string>, v = verifier()): Promise<OAuthError> {
    const error = await v.verify(await token).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(OAuthError);
    expect((error as OAuthError).code).toBe('invalid_token');
    expect((error as OAuthError).status).toBe(401);
    return error as OAuthError;
  }

  it('refuses a token issued in the future beyond the clock tolerance', async () => {
    expect((await rejection(sign({ iat: now + 1 }))).description).toBe('token issued in the future');
    expect((await rejection(sign({ iat: now + 6 }), verifier({ clockToleranceSeconds: 5 }))).description).toBe('token issued in the future');
    expect((await verifier({ clockToleranceSeconds: 5 }).verify(await sign({ iat: now + 5 }))).iat).toBe(now + 5);
  });

  it('refuses a token its key signed after the key was retired, and accepts one signed before', async () => {
    const retired = verifier({ retiredAt: (kid) => (kid === 'k1' ? now - 60 : undefined) });
    expect((await rejection(sign({ iat: now - 59 }), retired)).description).toBe('token issued after its signing key was retired');
    expect((await retired.verify(await sign({ iat: now - 60 }))).iat).toBe(now - 60);
    expect((await verifier({ retiredAt: () => undefined }).verify(await sign())).iat).toBe(now);
  });

  it('maps a valid token to its claims', async () => {
    expect(await verifier().verify(await sign({ aud: ['https://other.example', API], gid: 'grant-1' }))).toEqual({
      jti: 'jti-1',
      iss: ISSUER,
      sub: 'user-1',
      clientId: 'client-1',
      aud: ['https://other.example', API],
      scope: ['read', 'write'],
      iat: now,
      exp: now + 300,
      grantId: 'grant-1',
      format: 'jwt',
      kid: 'k1',
    });
  });

  it('reads a single aud string as a one-element list and a missing scope as none', async () => {
    const claims = await verifier().verify(await sign({ scope: undefined }));
    expect(claims.aud).toEqual([API]);
    expect(claims.scope).toEqual([]);
    expect(claims.grantId).toBeNull();
  });

  it.each(['application/at+jwt', 'AT+JWT', 'Application/AT+JWT'])('accepts typ %s', async (typ) => {
    expect((await verifier().verify(await sign({}, { typ }))).jti).toBe('jti-1');
  });

  it('checks the audience only when one is configured', async () => {
    expect((await verifier({ audience: undefined }).verify(await sign({ aud: 'https://other.example' }))).aud).toEqual([
      'https://other.example',
    ]);
  });

  it('honours the clock tolerance', async () => {
    const token = await sign({ exp: now - 10 });
    expect((await verifier({ clockToleranceSeconds: 30 }).verify(token)).jti).toBe('jti-1');
    expect((await rejection(token)).description).toBe('token expired');
  });

  describe('rejects', () => {
    it('a malformed token', async () => {
      expect((await rejection('not-a-jwt')).description).toBe('malformed token');
      expect((await rejection('a.b.c')).description).toBe('malformed token');
    });

    it('a tampered payload', async () => {
      const [header, , signature] = (await sign()).split('.');
      const payload = base64url.encode(JSON.stringify({ iss: ISSUER, sub: 'admin', aud: API, exp: now + 300, iat: now, jti: 'jti-1', client_id: 'client-1' }));
      expect((await rejection(`${header}.${payload}.${signature}`)).description).toBe('invalid signature');
    });

    it('a tampered signature', async () => {
      const [header, payload, signature] = (await sign()).split('.');
      const flipped = signature.slice(0, 10) + (signature[10] === 'A' ? 'B' : 'A') + signature.slice(11);
      expect((await rejection(`${header}.${payload}.${flipped}`)).description).toBe('invalid signature');
    });

    it('an unsecured (alg none) token', async () => {
      const encode = (value: object) => base64url.encode(JSON.stringify(value));
      const token = `${encode({ alg: 'none', kid: 'k1', typ: 'at+jwt' })}.${encode({ iss: ISSUER, sub: 'user-1', aud: API, exp: now + 300, iat: now, jti: 'jti-1', client_id: 'client-1' })}.`;
      expect((await rejection(token)).description).toBe('algorithm not allowed');
    });

    it('an HS256 token keyed with the public key bytes (algorithm confusion)', async () => {
      const publicKeyBytes = new TextEncoder().encode(await exportSPKI(keys.publicKey));
      const token = new SignJWT({ iss: ISSUER, sub: 'user-1', aud: API, exp: now + 300, iat: now, jti: 'jti-1', client_id: 'client-1' })
        .setProtectedHeader({ alg: 'HS256', kid: 'k1', typ: 'at+jwt' })
        .sign(publicKeyBytes);
      const lenient = verifier({ algorithms: ['ES256', 'RS256'], getKey: () => keys.publicKey });
      expect((await rejection(token, lenient)).description).toBe('algorithm not allowed');
    });

    it('a token of another type, or without one', async () => {
      expect((await rejection(sign({}, { typ: 'JWT' }))).description).toBe('token type is not at+jwt');
      expect((await rejection(sign({}, { typ: undefined }))).description).toBe('token type is not at+jwt');
    });

    it('a token without kid', async () => {
      expect((await rejection(sign({}, { kid: undefined }))).description).toBe('token has no kid');
    });

    it('an unknown kid', async () => {
      expect((await rejection(sign({}, { kid: 'k2' }))).description).toBe('unknown signing key');
    });

    it('another issuer', async () => {
      expect((await rejection(sign({ iss: 'https://evil.example' }))).description).toBe('unexpected issuer');
    });

    it('another audience', async () => {
      expect((await rejection(sign({ aud: 'https://other.example' }))).description).toBe('unexpected audience');
      expect((await rejection(sign({ aud: [] }))).description).toBe('unexpected audience');
    });

    it('an expired token', async () => {
      const token = await sign();
      clock.advance(299);
      expect((await verifier().verify(token)).jti).toBe('jti-1');
      clock.advance(1);
      expect((await rejection(token)).description).toBe('token expired');
    });

    it('a token not yet valid', async () => {
      expect((await rejection(sign({ nbf: now + 60 }))).description).toBe('token not yet valid');
    });

    it.each(['iss', 'sub', 'aud', 'exp', 'iat', 'jti', 'client_id'])('a token without %s', async (claim) => {
      const v = verifier({ audience: undefined });
      expect((await rejection(sign({ [claim]: undefined }), v)).description).toBe(`token has no ${claim} claim`);
    });

    it('claims of the wrong type', async () => {
      expect((await rejection(sign({ client_id: 42 }))).description).toBe('malformed claims');
      expect((await rejection(sign({ scope: ['read'] }))).description).toBe('malformed claims');
    });
  });

  it.each([[['none']], [['HS256']], [['ES256', 'hs512']], [[]]])('refuses to pin %j', (algorithms) => {
    expect(() => verifier({ algorithms })).toThrow(/^JWT access tokens need pinned asymmetric algorithms/);
  });
});
