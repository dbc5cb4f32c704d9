import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import { JwksKeyStore, parseJwks, verifies } from './jwks.key-store.js';

async function publicJwk(alg: 'ES256' | 'ES384' | 'EdDSA' | 'RS256', kid: string, withAlg = true): Promise<JWK> {
  const { publicKey } = await generateKeyPair(alg, alg === 'EdDSA' ? { crv: 'Ed25519' } : {});
  return { ...(await exportJWK(publicKey)), kid, use: 'sig', ...(withAlg && { alg }) };
}

/** A JWKS endpoint on 127.0.0.1 whose keys the test changes, counting the fetches. */
async function jwksServer(): Promise<{ url: string; keys: JWK[]; fetches: () => number; close: () => Promise<void> }> {
  const state = { keys: [] as JWK[], fetches: 0 };
  const server: Server = createServer((_req, res) => {
    state.fetches++;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: state.keys }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`,
    get keys() {
      return state.keys;
    },
    set keys(keys: JWK[]) {
      state.keys = keys;
    },
    fetches: () => state.fetches,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

describe('verifies: which algorithm a key may verify', () => {
  it("is the JWK's own alg when it names one", async () => {
    const [es256] = parseJwks({ keys: [await publicJwk('ES256', 'a')] }).values();
    expect(verifies(es256, 'ES256')).toBe(true);
    expect(['ES384', 'EdDSA', 'RS256', 'HS256', 'none'].filter((alg) => verifies(es256, alg))).toEqual([]);
  });

  it("follows the key's type when the JWK names no alg", async () => {
    const keys = parseJwks({ keys: await Promise.all([publicJwk('ES384', 'ec', false), publicJwk('EdDSA', 'ed', false), publicJwk('RS256', 'rsa', false)]) });
    const accepted = (kid: string) => ['ES256', 'ES384', 'EdDSA', 'RS256', 'PS512', 'HS256', 'none'].filter((alg) => verifies(keys.get(kid)!, alg));
    expect(accepted('ec')).toEqual(['ES384']);
    expect(accepted('ed')).toEqual(['EdDSA']);
    expect(accepted('rsa')).toEqual(['RS256', 'PS512']);
  });

  it('skips keys without a kid, for encryption, or private and symmetric ones', async () => {
    const { privateKey } = await generateKeyPair('ES256', { extractable: true });
    const keys = parseJwks({
      keys: [
        { ...(await publicJwk('ES256', 'x')), kid: undefined },
        { ...(await publicJwk('ES256', 'enc')), use: 'enc' },
        { ...(await exportJWK(privateKey)), kid: 'private' },
        { kty: 'oct', k: 'c2VjcmV0', kid: 'hmac' },
        await publicJwk('ES256', 'good'),
      ],
    });
    expect([...keys.keys()]).toEqual(['good']);
  });

  it("reads a key's retirement time (retired_at, a NumericDate), ignoring one that is not a number", async () => {
    const keys = parseJwks({
      keys: [
        { ...(await publicJwk('ES256', 'retired')), retired_at: 1767225600 },
        { ...(await publicJwk('ES256', 'odd')), retired_at: '1767225600' },
        await publicJwk('ES256', 'active'),
      ],
    });
    expect([...keys].map(([kid, k]) => [kid, k.retiredAt])).toEqual([
      ['retired', 1767225600],
      ['odd', undefined],
      ['active', undefined],
    ]);
  });
});

describe('JwksKeyStore', () => {
  let jwks: Awaited<ReturnType<typeof jwksServer>>;
  beforeEach(async () => {
    jwks = await jwksServer();
    jwks.keys = [await publicJwk('ES256', 'k1')];
  });
  afterEach(() => jwks.close());

  it('fetches once for concurrent lookups, and keeps the keys', async () => {
    const store = new JwksKeyStore(async () => jwks.url, 0);
    const found = await Promise.all([store.get('k1', 'ES256'), store.get('k1', 'ES256'), store.get('k1', 'ES256')]);
    expect(found.map((k) => k?.asymmetricKeyType)).toEqual(['ec', 'ec', 'ec']);
    expect(await store.get('nope', 'ES256')).toBeUndefined(); // a second fetch: it might be new
    expect(await store.get('k1', 'ES256')).toBeDefined();
    expect(jwks.fetches()).toBe(2);
  });

  it('never hands out a key for another alg than its own', async () => {
    const store = new JwksKeyStore(async () => jwks.url, 0);
    expect(await store.get('k1', 'EdDSA')).toBeUndefined();
    expect(await store.get('k1', 'ES256')).toBeDefined();
  });

  it('makes a new kid wait for the next fetch, spaced from the last, rather than refuse it', async () => {
    const store = new JwksKeyStore(async () => jwks.url, 300);
    expect(await store.get('made-up', 'ES256')).toBeUndefined(); // one fetch, just now
    jwks.keys = [...jwks.keys, await publicJwk('EdDSA', 'k2')];
    expect((await store.get('k2', 'EdDSA'))?.asymmetricKeyType).toBe('ed25519');
    expect(jwks.fetches()).toBe(2);
  });

  it('fetches at once when told the keys changed, also for lookups already waiting on the spacing', async () => {
    const store = new JwksKeyStore(async () => jwks.url, 3_600_000);
    await store.get('k1', 'ES256');
    const waiting = store.get('k2', 'RS256'); // waits for a fetch due in an hour
    jwks.keys = [await publicJwk('RS256', 'k2')];
    await store.refreshNow();
    expect((await waiting)?.asymmetricKeyType).toBe('rsa');
    expect(store.size).toBe(1); // k1 is no longer published: forgotten,
    expect(await store.get('k1', 'ES256')).toBeUndefined(); // and refused without waiting for another fetch
    expect(jwks.fetches()).toBe(2);
  });

  it('answers temporarily_unavailable for an unknown kid while the JWKS cannot be fetched, and keeps known keys', async () => {
    const store = new JwksKeyStore(async () => jwks.url, 0);
    await store.get('k1', 'ES256');
    await jwks.close();
    await expect(store.get('k2', 'ES256')).rejects.toMatchObject({ code: 'temporarily_unavailable' });
    expect(await store.get('k1', 'ES256')).toBeDefined();
    jwks = await jwksServer(); // for afterEach
  });
});
