import { randomBytes } from 'node:crypto';
import { InMemoryClientRepository, InMemoryRevocationRepository, someClaims } from '@tessera/testing';
import { ClientSecretHasher } from '@tessera/tokens';
import { parseClientMetadata } from '../clients/client-metadata.js';
import { ClientRegistrar } from '../clients/client-registrar.js';
import { SystemClock } from '../ports/clock.port.js';
import { RandomSource } from '../ports/random.port.js';
import { hashToken } from '../tokens/token-hash.js';
import { ClientConfigurationEndpoint, clientConfigurationUri } from './client-configuration.endpoint.js';

class Random extends RandomSource {
  token(byteLength: number): string {
    return randomBytes(byteLength).toString('base64url');
  }
}

describe('ClientConfigurationEndpoint (RFC 7592), on in-memory ports', () => {
  const ISSUER = 'https://as.example/';
  const policy = { grantTypes: ['client_credentials', 'authorization_code', 'refresh_token'], maxAccessTokenTtl: 3600 };
  const hasher = new ClientSecretHasher();
  const clock = new SystemClock();
  let revocations: InMemoryRevocationRepository;
  let clients: InMemoryClientRepository;
  let registrar: ClientRegistrar;
  let endpoint: ClientConfigurationEndpoint;
  beforeEach(() => {
    revocations = new InMemoryRevocationRepository();
    clients = new InMemoryClientRepository(revocations);
    registrar = new ClientRegistrar(clients, hasher, new Random(), clock);
    endpoint = new ClientConfigurationEndpoint(clients, registrar, hasher, policy, ISSUER);
  });
  const register = (metadata: Record<string, unknown> = {}) =>
    registrar.register(parseClientMetadata({ client_name: 'c', scope: 'read', ...metadata }, policy), { registrationAccessToken: true });

  it('builds the configuration URI from the issuer and the client id', () => {
    expect(clientConfigurationUri(ISSUER, '-a_b')).toBe('https://as.example/oauth2/register/-a_b');
  });

  it('keeps only the SHA-256 of the registration access token, and reads with the token itself', async () => {
    const { client, registrationAccessToken } = await register();
    expect(registrationAccessToken).toMatch(/^tsr_rat_[A-Za-z0-9_-]{43}$/);
    expect((await clients.findById(client.clientId))!.registrationAccessTokenHash).toBe(hashToken(registrationAccessToken!));
    const read = await endpoint.read(`Bearer ${registrationAccessToken}`, client.clientId);
    expect(read).toMatchObject({ client_id: client.clientId, registration_access_token: registrationAccessToken });
    expect(read).not.toHaveProperty('client_secret');
  });

  it("refuses another client's token, a missing one and an unknown client alike", async () => {
    const a = await register();
    const b = await register();
    for (const [authorization, id] of [
      [`Bearer ${b.registrationAccessToken}`, a.client.clientId],
      [undefined, a.client.clientId],
      [`Bearer ${a.registrationAccessToken}`, 'unknown'],
      [`Bearer ${a.registrationAccessToken}`, 'not\u0000an id'],
    ] as const) {
      await expect(endpoint.read(authorization, id)).rejects.toMatchObject({ code: 'invalid_token', status: 401 });
    }
  });

  it('deletes: an issued-before mark revokes every token issued so far, and the client can be neither managed nor enabled', async () => {
    const { client, registrationAccessToken } = await register();
    const before = someClaims({ clientId: client.clientId, sub: client.clientId, iat: Math.floor(Date.now() / 1000) - 10 });
    expect(await revocations.isRevoked(before)).toBe(false);
    await endpoint.delete(`Bearer ${registrationAccessToken}`, client.clientId);
    expect(await revocations.isRevoked(before)).toBe(true);
    const deleted = (await clients.findById(client.clientId))!;
    expect({ ...deleted, disabledAt: deleted.disabledAt !== null, deletedAt: deleted.deletedAt !== null }).toMatchObject({
      secretHash: null,
      registrationAccessTokenHash: null,
      disabledAt: true,
      deletedAt: true,
    });
    await expect(endpoint.read(`Bearer ${registrationAccessToken}`, client.clientId)).rejects.toMatchObject({ code: 'invalid_token' });
    await expect(registrar.enable(client.clientId)).rejects.toMatchObject({ code: 'invalid_request' });
    await expect(registrar.rotateSecret(client.clientId, false)).rejects.toMatchObject({ code: 'invalid_request' });
  });

  it('issues a secret to a public client that becomes confidential, which then verifies', async () => {
    const { client, registrationAccessToken, clientSecret } = await register({ token_endpoint_auth_method: 'none', redirect_uris: ['https://app.example/cb'] });
    expect(clientSecret).toBeNull();
    const updated = await endpoint.update(`Bearer ${registrationAccessToken}`, client.clientId, { client_id: client.clientId, redirect_uris: ['https://app.example/cb'] });
    expect(updated.client_secret).toMatch(/^tsr_cs_/);
    expect(hasher.verify(updated.client_secret as string, (await clients.findById(client.clientId))!.secretHash!)).toBe(true);
  });
});
