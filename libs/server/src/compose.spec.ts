// The composition function on in-memory ports: a whole server with no database and no framework, on a clock
// the test moves and a password hasher that counts its calls.
import { randomBytes } from 'node:crypto';
import { loadAuthServerConfig, type AuthServerConfig } from '@tessera/config';
import { FixedClock, FormParams, MemoryAuditLog, OAuthError, parseClientMetadata, s256Challenge, type ServerStorage } from '@tessera/oauth-core';
import { FastPasswordHasher, inMemoryStorage } from '@tessera/testing';
import { composeAdministration, composeAuthServer, type AuthServer } from './compose.js';

const ISSUER = 'https://auth.example';
const API = 'https://api.example';
const REDIRECT_URI = 'https://app.example/cb';

function configWith(env: Record<string, string> = {}): AuthServerConfig {
  return loadAuthServerConfig({
    DATABASE_URL: 'postgres://unused@localhost/unused',
    TESSERA_ISSUER: ISSUER,
    TESSERA_KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64url'),
    TESSERA_INITIAL_ACCESS_TOKEN: 'an-initial-access-token-0123456789',
    ...env,
  });
}

const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

async function rejection(promise: Promise<unknown>): Promise<OAuthError> {
  const error = await promise.then(() => null, (e: unknown) => e);
  if (!(error instanceof OAuthError)) throw new Error(`expected an OAuthError, got ${String(error)}`);
  return error;
}

describe('composeAuthServer', () => {
  let clock: FixedClock;
  let hasher: FastPasswordHasher;
  let storage: ServerStorage;
  let server: AuthServer;
  const config = configWith();

  beforeEach(async () => {
    clock = new FixedClock(new Date('2026-03-01T12:00:00Z'));
    hasher = new FastPasswordHasher();
    storage = inMemoryStorage();
    server = await composeAuthServer(config, storage, { clock, passwordHasher: hasher });
  });
  afterEach(() => server.close());

  async function aClient(metadata: Record<string, unknown>) {
    const { client, clientSecret } = await server.registrar.register(
      parseClientMetadata({ client_name: 'test', scope: 'read write', ...metadata }, { grantTypes: config.features.grants, maxAccessTokenTtl: 86400 }),
    );
    return { clientId: client.clientId, auth: basic(client.clientId, clientSecret!) };
  }

  it('issues a client_credentials token that the resource server introspects, on the injected clock', async () => {
    const client = await aClient({ resources: [API] });
    const rs = await aClient({ scope: '', resource_server_for: [API] });
    const issued = await server.token.handle(client.auth, FormParams.from({ grant_type: 'client_credentials', scope: 'read' }));
    expect(issued).toEqual({ accessToken: expect.stringMatching(/^tsr_at_/), tokenType: 'Bearer', expiresIn: 3600, scope: ['read'] });

    const introspected = await server.introspection.handle(rs.auth, FormParams.from({ token: issued.accessToken }));
    expect(introspected).toMatchObject({ active: true, client_id: client.clientId, scope: 'read', aud: API, iss: ISSUER, iat: clock.nowSeconds(), exp: clock.nowSeconds() + 3600 });

    // Expiry follows the clock the server was given, not the system's.
    clock.advance(3601);
    expect(await server.introspection.handle(rs.auth, FormParams.from({ token: issued.accessToken }))).toEqual({ active: false });
  });

  it('signs in with the injected password hasher, once per attempt, and ends the session when the clock passes its lifetime', async () => {
    await server.users.create('alice', 'correct horse battery');
    expect(hasher.hashes).toBe(1);

    const result = await server.signIn.signIn('alice', 'correct horse battery', '203.0.113.7');
    expect(result).toMatchObject({ kind: 'signed-in', user: { username: 'alice' } });
    expect(hasher.verifications).toBe(1);
    expect(await server.signIn.signIn('alice', 'wrong password here', '203.0.113.7')).toEqual({ kind: 'refused' });
    expect(hasher.verifications).toBe(2);

    const token = result.kind === 'signed-in' ? result.token : '';
    expect(await server.signIn.current(token)).toMatchObject({ user: { username: 'alice' } });
    clock.advance(config.signIn.sessionTtl + 1);
    expect(await server.signIn.current(token)).toBeNull();
  });

  it('an authorization code expires when the clock moves past its lifetime, without waiting', async () => {
    const web = await aClient({ grant_types: ['authorization_code'], redirect_uris: [REDIRECT_URI], resources: [API] });
    const user = await server.users.create('bob', 'another good password');
    const codeFor = async () => {
      const verifier = randomBytes(32).toString('base64url');
      const request = FormParams.from({
        response_type: 'code',
        client_id: web.clientId,
        redirect_uri: REDIRECT_URI,
        scope: 'read',
        code_challenge: s256Challenge(verifier),
        code_challenge_method: 'S256',
      });
      const outcome = await server.authorization!.decide(request, user, { allow: true, remember: false });
      if (outcome.kind !== 'redirect') throw new Error(`expected a redirect, got ${outcome.kind}`);
      return { code: new URL(outcome.location).searchParams.get('code')!, verifier };
    };
    const redeem = ({ code, verifier }: { code: string; verifier: string }) =>
      server.token.handle(web.auth, FormParams.from({ grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: REDIRECT_URI }));

    const fresh = await codeFor();
    clock.advance(config.tokens.authorizationCodeTtl - 1);
    expect(await redeem(fresh)).toMatchObject({ tokenType: 'Bearer', scope: ['read'] });

    const stale = await codeFor();
    clock.advance(config.tokens.authorizationCodeTtl + 1);
    const error = await rejection(redeem(stale));
    expect([error.code, error.description]).toEqual(['invalid_grant', 'authorization code expired']);
  });

  it('builds only the enabled grants: a disabled grant answers unsupported_grant_type, and no authorization endpoint without the code grant', async () => {
    const narrowConfig = configWith({ TESSERA_GRANTS: 'client_credentials' });
    const narrow = await composeAuthServer(narrowConfig, inMemoryStorage(), { clock, passwordHasher: hasher });
    try {
      const { client, clientSecret } = await narrow.registrar.register(
        parseClientMetadata({ client_name: 'test', scope: 'read' }, { grantTypes: narrowConfig.features.grants, maxAccessTokenTtl: 86400 }),
      );
      expect(narrow.token.grantTypes()).toEqual(['client_credentials']);
      expect(narrow.authorization).toBeNull();
      expect(narrow.metadata()).toMatchObject({ grant_types_supported: ['client_credentials'] });
      expect(narrow.metadata()).not.toHaveProperty('authorization_endpoint');
      const error = await rejection(narrow.token.handle(basic(client.clientId, clientSecret!), FormParams.from({ grant_type: 'refresh_token', refresh_token: 'x' })));
      expect(error.code).toBe('unsupported_grant_type');
    } finally {
      narrow.close();
    }
  });

  it('gives the operator the same password hasher and secret hashing as the server it was composed for', async () => {
    const admin = composeAdministration(config, storage, { clock, passwordHasher: hasher });
    await admin.users.create('carol', 'operator set this');
    expect(await server.signIn.signIn('carol', 'operator set this', '203.0.113.8')).toMatchObject({ kind: 'signed-in' });

    const { client, clientSecret } = await admin.registrar.register(
      parseClientMetadata({ client_name: 'made by the CLI', scope: 'read' }, { grantTypes: config.features.grants, maxAccessTokenTtl: 86400 }),
    );
    const issued = await server.token.handle(basic(client.clientId, clientSecret!), FormParams.from({ grant_type: 'client_credentials' }));
    expect(issued.tokenType).toBe('Bearer');
  });

  it("reports the operator's changes to its audit log: clients, users, keys, with identifiers only", async () => {
    const audit = new MemoryAuditLog();
    const admin = composeAdministration(config, storage, { clock, passwordHasher: hasher, audit });
    const user = await admin.users.create('dave', 'first password');
    await admin.users.setPassword('dave', 'second password');
    await admin.users.revokeConsent('dave');
    await admin.users.disable('dave');
    const { client, clientSecret } = await admin.registrar.register(
      parseClientMetadata({ client_name: 'audited', scope: 'read' }, { grantTypes: config.features.grants, maxAccessTokenTtl: 86400 }),
    );
    const rotated = await admin.registrar.rotateSecret(client.clientId, true);
    await admin.registrar.setResourceServerFor(client.clientId, [API]);
    await admin.registrar.disable(client.clientId);
    const keys = admin.keySet();
    const before = server.keys.signingKey().kid;
    await keys.rotate();
    keys.close();
    const after = (await storage.signingKeys.listPublished(clock.now())).find((k) => k.status === 'active')!.kid;

    const id = client.clientId;
    expect(audit.events).toEqual([
      { event: 'user.created', userId: user.id, username: 'dave' },
      { event: 'user.changed', userId: user.id, username: 'dave', change: 'password' },
      { event: 'user.changed', userId: user.id, username: 'dave', change: 'consent_revoked', clientId: undefined, consentsRevoked: 0 },
      { event: 'user.disabled', userId: user.id, username: 'dave' },
      { event: 'client.created', clientId: id, clientName: 'audited', resourceServerFor: [], via: 'operator' },
      { event: 'client.changed', clientId: id, change: 'secret_rotated', tokensRevoked: true, via: 'operator' },
      { event: 'client.changed', clientId: id, change: 'resource_server_for', resourceServerFor: [API], via: 'operator' },
      { event: 'client.disabled', clientId: id, via: 'operator' },
      { event: 'key.rotated', kid: after, algorithm: 'ES256', retiredKid: before, signedTokensRevoked: false },
    ]);
    expect(JSON.stringify(audit.events)).not.toMatch(new RegExp(`${clientSecret}|${rotated.clientSecret}|first password|second password`));
  });
});
