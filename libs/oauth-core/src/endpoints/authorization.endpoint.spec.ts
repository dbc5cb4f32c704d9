import { aClient, aUser, InMemoryAuthorizationCodeRepository, InMemoryClientRepository, InMemoryConsentRepository } from '@tessera/testing';
import { CryptoRandomSource } from '@tessera/tokens';
import { FormParams } from '../forms/form-params.js';
import { s256Challenge } from '../grants/pkce.js';
import { FixedClock } from '../ports/clock.port.js';
import { AuthorizationCodeIssuer } from '../tokens/authorization-code.issuer.js';
import { hashToken } from '../tokens/token-hash.js';
import { AuthorizationEndpoint, type AuthorizationOutcome } from './authorization.endpoint.js';

const ISSUER = 'https://as.example';
const REDIRECT_URI = 'https://app.example/cb';
const API = 'https://api.example';
const CHALLENGE = s256Challenge('a'.repeat(43));

async function setup() {
  const clock = new FixedClock();
  const clients = new InMemoryClientRepository();
  const consents = new InMemoryConsentRepository();
  const codes = new InMemoryAuthorizationCodeRepository();
  const client = aClient({ grantTypes: ['authorization_code'], redirectUris: [REDIRECT_URI], scopes: ['read', 'write'], resources: [API, 'https://b.example'] });
  await clients.create(client);
  const endpoint = new AuthorizationEndpoint(clients, consents, new AuthorizationCodeIssuer(codes, new CryptoRandomSource(), clock, 60), clock, ISSUER);
  const request = (overrides: Record<string, string | undefined> = {}) =>
    FormParams.from(
      Object.fromEntries(
        Object.entries({
          response_type: 'code',
          client_id: client.clientId,
          redirect_uri: REDIRECT_URI,
          scope: 'read',
          state: 's1',
          code_challenge: CHALLENGE,
          code_challenge_method: 'S256',
          ...overrides,
        }).filter(([, v]) => v !== undefined),
      ),
    );
  return { clock, client, consents, codes, endpoint, request, user: aUser() };
}

function location(outcome: AuthorizationOutcome): URL {
  if (outcome.kind !== 'redirect') throw new Error(`expected a redirect, got ${outcome.kind}`);
  return new URL(outcome.location);
}

describe('AuthorizationEndpoint', () => {
  it('asks a visitor to sign in, a signed-in user to consent, and binds the code to the request', async () => {
    const { endpoint, request, user, codes, client, clock } = await setup();
    expect(await endpoint.authorize(request(), null)).toEqual({ kind: 'sign-in' });
    expect(await endpoint.authorize(request({ resource: API }), user)).toEqual({
      kind: 'consent',
      request: { client, redirectUri: REDIRECT_URI, state: 's1', scope: ['read'], resources: [API], codeChallenge: CHALLENGE },
    });
    const answer = location(await endpoint.decide(request({ resource: API }), user, { allow: true, remember: false }));
    const code = answer.searchParams.get('code')!;
    expect([...answer.searchParams.keys()]).toEqual(['code', 'state', 'iss']);
    expect(codes.codes.get(hashToken(code))?.code).toMatchObject({
      clientId: client.clientId,
      subject: user.id,
      redirectUri: REDIRECT_URI,
      codeChallenge: CHALLENGE,
      scope: ['read'],
      audience: [API],
      expiresAt: new Date(clock.now().getTime() + 60_000),
    });
  });

  it('skips consent when a remembered one covers every scope and resource asked for', async () => {
    const { endpoint, request, user } = await setup();
    await endpoint.decide(request({ scope: 'read write', resource: API }), user, { allow: true, remember: true });
    expect((await endpoint.authorize(request({ scope: 'write', resource: API }), user)).kind).toBe('redirect');
    expect((await endpoint.authorize(request({ scope: 'read', resource: 'https://b.example' }), user)).kind).toBe('consent');
    // No resource asked for means every registered one, which the consent did not cover.
    expect((await endpoint.authorize(request({ scope: 'read' }), user)).kind).toBe('consent');
  });

  it('sends a denial back as access_denied with state and iss', async () => {
    const { endpoint, request, user, codes } = await setup();
    const answer = location(await endpoint.decide(request(), user, { allow: false, remember: true }));
    expect(Object.fromEntries(answer.searchParams)).toEqual({ error: 'access_denied', error_description: 'the user denied the request', state: 's1', iss: ISSUER });
    expect(codes.codes.size).toBe(0);
  });

  it('shows errors about the client or redirect URI, and redirects the rest', async () => {
    const { endpoint, request, user } = await setup();
    for (const bad of [{ client_id: 'nobody' }, { redirect_uri: 'https://app.example/other' }, { client_id: undefined }]) {
      expect((await endpoint.authorize(request(bad), user)).kind).toBe('show-error');
    }
    expect(location(await endpoint.authorize(request({ scope: 'admin' }), user)).searchParams.get('error')).toBe('invalid_scope');
    expect(location(await endpoint.authorize(request({ code_challenge_method: 'plain' }), null)).searchParams.get('error')).toBe('invalid_request');
  });
});
