import { Logger } from '@nestjs/common';
import { AuthorizationServerError, type AuthorizationServerClient, type ClientCredentials } from './authorization-server.client.js';
import { IntrospectionCredentials, retryDelayMs, type IntrospectionCredentialsOptions } from './introspection-credentials.js';
import { RegisteredClientStore } from './registered-client.store.js';

const ISSUER = 'https://as.example';
const IAT = 'initial-access-token-0123456789';

class InMemoryRegisteredClientStore extends RegisteredClientStore {
  readonly rows = new Map<string, ClientCredentials>();

  async find(issuer: string) {
    return this.rows.get(issuer) ?? null;
  }

  async save(issuer: string, registered: ClientCredentials, replacing: string | null) {
    const existing = this.rows.get(issuer);
    if (!existing || existing.clientId === replacing) this.rows.set(issuer, registered);
    return this.rows.get(issuer)!;
  }
}

/** An authorization server that knows some clients and may be down for the first calls. */
class FakeAuthorizationServer {
  readonly known = new Set<string>();
  registrations = 0;
  downFor = 0;
  refuseToken = false;

  async register(initialAccessToken: string): Promise<ClientCredentials> {
    this.maybeDown();
    if (initialAccessToken !== IAT || this.refuseToken) throw new AuthorizationServerError('refused', true);
    this.registrations += 1;
    const clientId = `client-${this.registrations}`;
    this.known.add(clientId);
    return { clientId, clientSecret: `secret-${this.registrations}` };
  }

  async accepts(credentials: ClientCredentials): Promise<boolean> {
    this.maybeDown();
    return this.known.has(credentials.clientId);
  }

  private maybeDown() {
    if (this.downFor > 0) {
      this.downFor -= 1;
      throw new AuthorizationServerError('cannot reach it: ECONNREFUSED');
    }
  }
}

describe('IntrospectionCredentials', () => {
  beforeAll(() => Logger.overrideLogger(false));
  afterAll(() => Logger.overrideLogger(['log', 'error', 'warn', 'debug', 'verbose', 'fatal']));

  let store: InMemoryRegisteredClientStore;
  let as: FakeAuthorizationServer;
  let sleeps: number[];
  const make = (options: Partial<IntrospectionCredentialsOptions> = {}) =>
    new IntrospectionCredentials(
      { issuer: ISSUER, configured: null, initialAccessToken: IAT, ...options },
      store,
      as as unknown as AuthorizationServerClient,
      // A macrotask, as a real timer is: the retry loop must not starve the test.
      (ms) => {
        sleeps.push(ms);
        return new Promise((r) => setImmediate(r));
      },
    );

  beforeEach(() => {
    store = new InMemoryRegisteredClientStore();
    as = new FakeAuthorizationServer();
    sleeps = [];
  });

  it('uses configured credentials as they are, registering nothing', async () => {
    const credentials = make({ configured: { clientId: 'rs', clientSecret: 's' } });
    expect(credentials.get()).toEqual({ clientId: 'rs', clientSecret: 's' });
    credentials.start();
    expect(await credentials.settled).toEqual({ clientId: 'rs', clientSecret: 's' });
    expect(as.registrations).toBe(0);
    expect(store.rows.size).toBe(0);
  });

  it('has none without credentials or an initial access token', async () => {
    const credentials = make({ initialAccessToken: null });
    expect(credentials.enabled).toBe(false);
    credentials.start();
    expect(await credentials.settled).toBeNull();
    expect(credentials.get()).toBeNull();
  });

  it('registers on first start, stores the client, and reuses it on the next start', async () => {
    const first = make();
    expect(first.enabled).toBe(true);
    expect(first.get()).toBeNull();
    first.start();
    expect(await first.settled).toEqual({ clientId: 'client-1', clientSecret: 'secret-1' });
    expect(first.get()).toEqual({ clientId: 'client-1', clientSecret: 'secret-1' });
    expect(store.rows.get(ISSUER)).toEqual({ clientId: 'client-1', clientSecret: 'secret-1' });
    await first.onModuleDestroy();

    const second = make();
    second.start();
    expect(await second.settled).toEqual({ clientId: 'client-1', clientSecret: 'secret-1' });
    expect(as.registrations).toBe(1);
  });

  it('registers again when the issuer no longer knows the stored client', async () => {
    store.rows.set(ISSUER, { clientId: 'forgotten', clientSecret: 'x' });
    const credentials = make();
    credentials.start();
    expect(await credentials.settled).toEqual({ clientId: 'client-1', clientSecret: 'secret-1' });
    expect(store.rows.get(ISSUER)?.clientId).toBe('client-1');
  });

  it('keeps another issuer\'s client to itself', async () => {
    store.rows.set('https://other.example', { clientId: 'client-x', clientSecret: 'x' });
    as.known.add('client-x');
    const credentials = make();
    credentials.start();
    expect((await credentials.settled)?.clientId).toBe('client-1');
  });

  it('retries with backoff while the issuer is down, using a stored client meanwhile', async () => {
    store.rows.set(ISSUER, { clientId: 'client-0', clientSecret: 'secret-0' });
    as.known.add('client-0');
    as.downFor = 3;
    const credentials = make();
    credentials.start();
    expect(credentials.get()).toBeNull(); // read from the store in the background
    await new Promise((r) => setImmediate(r));
    expect(credentials.get()?.clientId).toBe('client-0');
    expect(await credentials.settled).toEqual({ clientId: 'client-0', clientSecret: 'secret-0' });
    expect(sleeps).toEqual([1000, 2000, 4000]);
  });

  it('keeps trying after a refused initial access token (the auth server may be fixed and restarted)', async () => {
    as.refuseToken = true;
    const credentials = make();
    credentials.start();
    while (sleeps.length < 7) await new Promise((r) => setImmediate(r));
    as.refuseToken = false;
    expect((await credentials.settled)?.clientId).toBe('client-1');
    expect(sleeps.slice(0, 7)).toEqual([1000, 2000, 4000, 8000, 16000, 30000, 30000]);
  });

  it('stops retrying when the module is destroyed', async () => {
    as.downFor = Infinity;
    const credentials = new IntrospectionCredentials(
      { issuer: ISSUER, configured: null, initialAccessToken: IAT },
      store,
      as as unknown as AuthorizationServerClient,
    );
    credentials.start();
    await new Promise((r) => setTimeout(r, 20));
    await credentials.onModuleDestroy(); // resolves: the real sleep is aborted
    expect(credentials.get()).toBeNull();
  });

  it('backs off exponentially up to 30 s', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 50].map(retryDelayMs)).toEqual([1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
  });
});
