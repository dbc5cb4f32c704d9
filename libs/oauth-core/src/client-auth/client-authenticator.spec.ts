import { randomBytes } from 'node:crypto';
import { aClient, InMemoryClientRepository } from '@tessera/testing';
import { ClientSecretHasher, KeyEncryptionKeys } from '@tessera/tokens';
import type { Client } from '../domain/client.js';
import { OAuthError } from '../errors/oauth-error.js';
import { FormParams } from '../forms/form-params.js';
import { ClientAuthenticator } from './client-authenticator.js';

const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;
const none = FormParams.from({});

describe('ClientAuthenticator: moving secret hashes under the key-encryption key', () => {
  const legacy = new ClientSecretHasher(); // earlier versions: the built-in public pepper, in clear
  const sealed = new ClientSecretHasher({ keys: new KeyEncryptionKeys({ current: randomBytes(32).toString('base64url') }) });
  let clients: InMemoryClientRepository;
  let client: Client;

  beforeEach(async () => {
    clients = new InMemoryClientRepository();
    client = aClient({ secretHash: legacy.hash('s3cret') });
    await clients.create(client);
  });

  it('stores a secret hashed by an earlier version sealed at its next successful authentication', async () => {
    await new ClientAuthenticator(clients, sealed).authenticate(basic(client.clientId, 's3cret'), none);
    const stored = (await clients.findById(client.clientId))!.secretHash!;
    expect(stored).toMatch(/^hmac-sha256\$enc:v2:/);
    expect(sealed.verify('s3cret', stored)).toBe(true);
    expect(sealed.needsRehash(stored)).toBe(false);
  });

  it('changes nothing on a failed authentication, nor without a key-encryption key', async () => {
    await expect(new ClientAuthenticator(clients, sealed).authenticate(basic(client.clientId, 'wrong'), none)).rejects.toThrow(OAuthError);
    await new ClientAuthenticator(clients, legacy).authenticate(basic(client.clientId, 's3cret'), none);
    expect((await clients.findById(client.clientId))!.secretHash).toBe(client.secretHash);
  });

  it('never overwrites a secret rotated while the authentication ran', async () => {
    // The authenticator read the client before the operator rotated its secret.
    const stale = new (class extends InMemoryClientRepository {
      override async findById(): Promise<Client | null> {
        return structuredClone(client);
      }
    })();
    await stale.create({ ...client, secretHash: sealed.hash('rotated') });
    await new ClientAuthenticator(stale, sealed).authenticate(basic(client.clientId, 's3cret'), none);
    const stored = stale.clients.get(client.clientId)!.secretHash!;
    expect(sealed.verify('rotated', stored)).toBe(true);
    expect(sealed.verify('s3cret', stored)).toBe(false);
  });
});

describe('ClientAuthenticator: the per-client rate limit', () => {
  const hasher = new ClientSecretHasher();
  let clients: InMemoryClientRepository;
  let confidential: Client;
  let publicClient: Client;
  let limited: string[];
  let authenticator: ClientAuthenticator;

  beforeEach(async () => {
    clients = new InMemoryClientRepository();
    confidential = aClient({ secretHash: hasher.hash('s3cret') });
    publicClient = aClient({ secretHash: null, tokenEndpointAuthMethod: 'none' });
    await clients.create(confidential);
    await clients.create(publicClient);
    limited = [];
    authenticator = new ClientAuthenticator(clients, hasher, (client) => {
      limited.push(client.clientId);
      if (limited.length > 1) throw OAuthError.tooManyRequests('client', 7);
    });
  });

  it('counts a client only once its secret verified, and its refusal stands', async () => {
    await expect(authenticator.authenticate(basic(confidential.clientId, 'guess'), none)).rejects.toMatchObject({ code: 'invalid_client' });
    await expect(authenticator.authenticate(undefined, FormParams.from({ client_id: publicClient.clientId }))).resolves.toMatchObject({ clientId: publicClient.clientId });
    expect(limited).toEqual([]);
    await authenticator.authenticate(basic(confidential.clientId, 's3cret'), none);
    expect(limited).toEqual([confidential.clientId]);
    await expect(authenticator.authenticate(basic(confidential.clientId, 's3cret'), none)).rejects.toMatchObject({ code: 'too_many_requests', status: 429, retryAfterSeconds: 7 });
  });
});
