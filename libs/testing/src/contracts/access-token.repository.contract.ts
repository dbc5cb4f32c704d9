import { randomUUID } from 'node:crypto';
import { aClient, someClaims } from '../fixtures.js';
import type { ContractPorts, MakePorts } from './contract-ports.js';

/** The behaviour every (opaque) AccessTokenRepository shares; `makePorts` returns empty stores. */
export function accessTokenRepositoryContract(name: string, makePorts: MakePorts<'clients' | 'accessTokens' | 'revocations' | 'markIssuedBefore'>): void {
  describe(`${name}: AccessTokenRepository contract`, () => {
    let accessTokens: ContractPorts['accessTokens'];
    let revocations: ContractPorts['revocations'];
    let markIssuedBefore: ContractPorts['markIssuedBefore'];
    let clientId: string;
    let hashSeq = 0;
    const aHash = () => `hash-${++hashSeq}-${'x'.repeat(40)}`;

    beforeEach(async () => {
      const ports = await makePorts();
      ({ accessTokens, revocations, markIssuedBefore } = ports);
      const client = aClient();
      await ports.clients.create(client);
      clientId = client.clientId;
    });

    it('gives back the claims of a stored token, not revoked', async () => {
      const claims = someClaims({
        clientId,
        sub: 'alice@example.com',
        aud: ['https://api.example', 'https://other.example'],
        scope: ['read', 'write'],
        grantId: randomUUID(),
        iat: 1_780_000_000,
        exp: 1_780_003_600,
      });
      const hash = aHash();
      await accessTokens.insert(hash, claims);
      expect(await accessTokens.findByHash(hash)).toEqual({ claims, revokedAt: null });
    });

    it('gives back a token stored without a grant with grantId null', async () => {
      const { grantId: _, ...claims } = someClaims({ clientId });
      const hash = aHash();
      await accessTokens.insert(hash, claims);
      expect((await accessTokens.findByHash(hash))?.claims).toEqual({ ...claims, grantId: null });
    });

    it('returns null for an unknown hash', async () => {
      expect(await accessTokens.findByHash(aHash())).toBeNull();
    });

    it('refuses a second token with the same hash', async () => {
      const hash = aHash();
      await accessTokens.insert(hash, someClaims({ clientId }));
      await expect(accessTokens.insert(hash, someClaims({ clientId }))).rejects.toThrow();
    });

    it('revokes a token once: marks it, records its jti, and answers false the second time', async () => {
      const claims = someClaims({ clientId });
      const other = someClaims({ clientId });
      const hash = aHash();
      const otherHash = aHash();
      await accessTokens.insert(hash, claims);
      await accessTokens.insert(otherHash, other);
      const at = new Date('2026-01-01T00:10:00.250Z');

      expect(await revocations.isRevoked(claims)).toBe(false);
      expect(await accessTokens.revoke(hash, at)).toBe(true);
      expect(await accessTokens.findByHash(hash)).toEqual({ claims, revokedAt: at });
      expect(await revocations.isRevoked(claims)).toBe(true);

      expect(await accessTokens.revoke(hash, new Date('2026-01-01T00:20:00Z'))).toBe(false);
      expect((await accessTokens.findByHash(hash))?.revokedAt).toEqual(at);

      expect(await accessTokens.findByHash(otherHash)).toEqual({ claims: other, revokedAt: null });
      expect(await revocations.isRevoked(other)).toBe(false);
    });

    it('answers true to exactly one of two concurrent revokes', async () => {
      const hash = aHash();
      await accessTokens.insert(hash, someClaims({ clientId }));
      const at = new Date('2026-01-01T00:10:00Z');
      const results = await Promise.all([accessTokens.revoke(hash, at), accessTokens.revoke(hash, at)]);
      expect(results.sort()).toEqual([false, true]);
    });

    it('answers true once per token when several revokes of it run at once, beside another token', async () => {
      const [hash, otherHash] = [aHash(), aHash()];
      await accessTokens.insert(hash, someClaims({ clientId }));
      await accessTokens.insert(otherHash, someClaims({ clientId }));
      const at = new Date('2026-01-01T00:10:00Z');
      const results = await Promise.all([hash, hash, hash, otherHash].map((h) => accessTokens.revoke(h, at)));
      expect(results.slice(0, 3).sort()).toEqual([false, false, true]);
      expect(results[3]).toBe(true);
      expect((await revocations.listAfter('0', 10)).map((e) => e.kind)).toEqual(['token', 'token']);
    });

    it('answers false when revoking an unknown token', async () => {
      expect(await accessTokens.revoke(aHash(), new Date('2026-01-01T00:10:00Z'))).toBe(false);
    });

    it('reads a token with the log (findByHashWithLog) exactly as findByHash and isRevoked do, one mark at a time', async () => {
      if (!accessTokens.findByHashWithLog) return; // optional: an adapter without it is read with findByHash + isRevoked
      const iat = 1_780_000_000;
      const grantId = randomUUID();
      const claims = someClaims({ clientId, sub: 'alice', grantId, iat, exp: iat + 3600 });
      const hash = aHash();
      await accessTokens.insert(hash, claims);
      const agrees = async () => {
        const expected = { ...(await accessTokens.findByHash(hash))!, revokedByLog: await revocations.isRevoked(claims) };
        expect(await accessTokens.findByHashWithLog!(hash)).toEqual(expected);
        return expected.revokedByLog;
      };
      expect(await accessTokens.findByHashWithLog(aHash())).toBeNull();
      expect(await agrees()).toBe(false);
      // Marks that do not reach this token: set at its iat (not after), another subject, another grant.
      await markIssuedBefore({ clientId, issuedBefore: new Date(iat * 1000) });
      await markIssuedBefore({ clientId, subject: 'bob', issuedBefore: new Date((iat + 1) * 1000) });
      await markIssuedBefore({ clientId, grantId: randomUUID(), issuedBefore: new Date((iat + 1) * 1000) });
      expect(await agrees()).toBe(false);
      await markIssuedBefore({ clientId, subject: 'alice', grantId, issuedBefore: new Date((iat + 1) * 1000) });
      expect(await agrees()).toBe(true);

      const other = someClaims({ clientId, iat, exp: iat + 3600 });
      const otherHash = aHash();
      await accessTokens.insert(otherHash, other);
      expect((await accessTokens.findByHashWithLog(otherHash))?.revokedByLog).toBe(false);
      await revocations.revokeToken(other.jti, clientId, other.aud, new Date(other.exp * 1000), new Date());
      expect(await accessTokens.findByHashWithLog(otherHash)).toEqual({ claims: other, revokedAt: null, revokedByLog: true });
    });

    it('appends concurrent revocations so that a reader following the log by seq never skips one', async () => {
      const hashes = Array.from({ length: 60 }, () => aHash());
      for (const hash of hashes) await accessTokens.insert(hash, someClaims({ clientId }));
      const seen: string[] = [];
      let last = await revocations.latestSeq();
      let done = false;
      const follow = (async () => {
        // Reads as the revocation feed does: everything after the last seq seen, until the revocations are over.
        for (let finished = false; !finished; ) {
          finished = done;
          for (const entry of await revocations.listAfter(last, 500)) {
            seen.push(entry.seq);
            last = entry.seq;
          }
        }
      })();
      const at = new Date('2026-01-01T00:10:00Z');
      expect(await Promise.all(hashes.map((hash) => accessTokens.revoke(hash, at)))).toEqual(hashes.map(() => true));
      done = true;
      await follow;
      const all = (await revocations.listAfter('0', 1000)).map((e) => e.seq);
      expect(seen).toEqual(all);
      expect(all).toHaveLength(60);
    });
  });
}
