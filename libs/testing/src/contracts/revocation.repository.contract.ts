import { randomUUID } from 'node:crypto';
import { aClient, someClaims } from '../fixtures.js';
import type { ContractPorts, MakePorts } from './contract-ports.js';

/** The behaviour every RevocationRepository shares; `makePorts` returns empty stores. */
export function revocationRepositoryContract(name: string, makePorts: MakePorts<'revocations' | 'markIssuedBefore' | 'clients'>): void {
  describe(`${name}: RevocationRepository contract`, () => {
    let revocations: ContractPorts['revocations'];
    let markIssuedBefore: ContractPorts['markIssuedBefore'];
    let clients: ContractPorts['clients'];
    beforeEach(async () => ({ revocations, markIssuedBefore, clients } = await makePorts()));

    const expiresAt = new Date('2026-01-01T01:00:00Z');
    const at = new Date('2026-01-01T00:30:00Z');
    const epoch = (iso: string) => Math.floor(new Date(iso).getTime() / 1000);

    it('knows no revocation at first', async () => {
      expect(await revocations.isRevoked(someClaims())).toBe(false);
    });

    it('revokes a token by jti, and only that one', async () => {
      const claims = someClaims({ format: 'jwt' });
      await revocations.revokeToken(claims.jti, claims.clientId, claims.aud, expiresAt, at);
      expect(await revocations.isRevoked(claims)).toBe(true);
      expect(await revocations.isRevoked(someClaims({ clientId: claims.clientId, sub: claims.sub }))).toBe(false);
    });

    it('revokes a jti idempotently, also concurrently', async () => {
      const claims = someClaims();
      await revocations.revokeToken(claims.jti, claims.clientId, claims.aud, expiresAt, at);
      await revocations.revokeToken(claims.jti, claims.clientId, claims.aud, expiresAt, new Date('2026-01-01T00:40:00Z'));
      const other = someClaims();
      await Promise.all([1, 2, 3].map(() => revocations.revokeToken(other.jti, other.clientId, other.aud, expiresAt, at)));
      expect(await revocations.isRevoked(claims)).toBe(true);
      expect(await revocations.isRevoked(other)).toBe(true);
    });

    it('records each of many concurrent revocations once, with its own client, audience and times', async () => {
      const tokens = Array.from({ length: 12 }, (_, i) => someClaims({ aud: [`https://api${i}.example`] }));
      const when = (i: number) => new Date(at.getTime() + i * 1000);
      await Promise.all([...tokens, tokens[3], tokens[7]].map((c, i) => revocations.revokeToken(c.jti, c.clientId, c.aud, expiresAt, when(i % tokens.length))));
      for (const c of tokens) expect(await revocations.isRevoked(c)).toBe(true);
      const entries = await revocations.listAfter('0', 100);
      expect(entries.map((e) => BigInt(e.seq))).toEqual(entries.map((e) => BigInt(e.seq)).sort((x, y) => (x < y ? -1 : 1)));
      expect(entries.map(({ seq: _, ...e }) => e).sort((x, y) => (x.kind === 'token' && y.kind === 'token' ? x.jti.localeCompare(y.jti) : 0))).toEqual(
        tokens.map((c, i) => ({ kind: 'token', jti: c.jti, clientId: c.clientId, audience: c.aud, expiresAt, revokedAt: when(i) })).sort((x, y) => x.jti.localeCompare(y.jti)),
      );
    });

    it('applies a client-wide issued-before mark to tokens issued strictly before it', async () => {
      await markIssuedBefore({ clientId: 'client-a', issuedBefore: new Date('2026-05-01T12:00:00Z') });
      const token = (iso: string, clientId = 'client-a') => someClaims({ clientId, sub: randomUUID(), grantId: randomUUID(), iat: epoch(iso) });
      expect(await revocations.isRevoked(token('2026-05-01T11:59:59Z'))).toBe(true);
      expect(await revocations.isRevoked(token('2026-05-01T12:00:00Z'))).toBe(false);
      expect(await revocations.isRevoked(token('2026-05-01T11:00:00Z', 'client-b'))).toBe(false);
    });

    it('narrows a mark to a subject', async () => {
      await markIssuedBefore({ clientId: 'client-a', subject: 'alice', issuedBefore: new Date('2026-05-01T12:00:00Z') });
      const iat = epoch('2026-05-01T11:00:00Z');
      expect(await revocations.isRevoked(someClaims({ clientId: 'client-a', sub: 'alice', iat }))).toBe(true);
      expect(await revocations.isRevoked(someClaims({ clientId: 'client-a', sub: 'bob', iat }))).toBe(false);
      expect(await revocations.isRevoked(someClaims({ clientId: 'client-b', sub: 'alice', iat }))).toBe(false);
    });

    it('narrows a mark to a grant', async () => {
      const grantId = randomUUID();
      await markIssuedBefore({ clientId: 'client-a', grantId, issuedBefore: new Date('2026-05-01T12:00:00Z') });
      const iat = epoch('2026-05-01T11:00:00Z');
      expect(await revocations.isRevoked(someClaims({ clientId: 'client-a', grantId, iat }))).toBe(true);
      expect(await revocations.isRevoked(someClaims({ clientId: 'client-a', grantId: randomUUID(), iat }))).toBe(false);
      expect(await revocations.isRevoked(someClaims({ clientId: 'client-a', grantId: null, iat }))).toBe(false);
      const { grantId: _, ...withoutGrant } = someClaims({ clientId: 'client-a', iat });
      expect(await revocations.isRevoked(withoutGrant)).toBe(false);
      expect(await revocations.isRevoked(someClaims({ clientId: 'client-a', grantId: 'not-a-uuid', iat }))).toBe(false);
    });

    it('narrows a mark to a subject and a grant together', async () => {
      const grantId = randomUUID();
      await markIssuedBefore({ clientId: 'client-a', subject: 'alice', grantId, issuedBefore: new Date('2026-05-01T12:00:00Z') });
      const iat = epoch('2026-05-01T11:00:00Z');
      expect(await revocations.isRevoked(someClaims({ clientId: 'client-a', sub: 'alice', grantId, iat }))).toBe(true);
      expect(await revocations.isRevoked(someClaims({ clientId: 'client-a', sub: 'bob', grantId, iat }))).toBe(false);
      expect(await revocations.isRevoked(someClaims({ clientId: 'client-a', sub: 'alice', grantId: randomUUID(), iat }))).toBe(false);
    });

    it('records an issued-before mark for one grant of a client', async () => {
      const grantId = randomUUID();
      await revocations.revokeGrant('client-a', grantId, new Date('2026-05-01T12:00:00Z'));
      const iat = epoch('2026-05-01T11:00:00Z');
      expect(await revocations.isRevoked(someClaims({ clientId: 'client-a', sub: 'alice', grantId, iat }))).toBe(true);
      expect(await revocations.isRevoked(someClaims({ clientId: 'client-a', grantId, iat: epoch('2026-05-01T12:00:00Z') }))).toBe(false);
      expect(await revocations.isRevoked(someClaims({ clientId: 'client-a', grantId: randomUUID(), iat }))).toBe(false);
      expect(await revocations.isRevoked(someClaims({ clientId: 'client-b', grantId, iat }))).toBe(false);
      const [entry] = await revocations.listAfter('0', 10);
      expect(entry).toEqual(expect.objectContaining({ kind: 'issued-before', clientId: 'client-a', grantId, subject: null, issuedBefore: new Date('2026-05-01T12:00:00Z') }));
    });

    it('records an issued-before mark for a subject at every client', async () => {
      const a = aClient();
      const b = aClient();
      await clients.create(a);
      await clients.create(b);
      await revocations.revokeSubject('alice', new Date('2026-05-01T12:00:00Z'));
      const iat = epoch('2026-05-01T11:00:00Z');
      for (const c of [a, b]) {
        expect(await revocations.isRevoked(someClaims({ clientId: c.clientId, sub: 'alice', grantId: randomUUID(), iat }))).toBe(true);
        expect(await revocations.isRevoked(someClaims({ clientId: c.clientId, sub: 'bob', iat }))).toBe(false);
      }
      expect(await revocations.isRevoked(someClaims({ clientId: a.clientId, sub: 'alice', iat: epoch('2026-05-01T12:00:01Z') }))).toBe(false);
      const entries = await revocations.listAfter('0', 10);
      expect(entries.map((e) => [e.kind !== 'key' && e.clientId, e.kind === 'issued-before' && e.subject]).sort()).toEqual([[a.clientId, 'alice'], [b.clientId, 'alice']].sort());
    });

    it('lists entries after a cursor in seq order, with everything a follower needs', async () => {
      expect(await revocations.latestSeq()).toBe('0');
      expect(await revocations.listAfter('0', 10)).toEqual([]);
      const a = someClaims({ aud: ['https://api.example', 'https://other.example'] });
      await revocations.revokeToken(a.jti, a.clientId, a.aud, expiresAt, at);
      await markIssuedBefore({ clientId: 'client-a', subject: 'alice', issuedBefore: at, expiresAt });
      const b = someClaims();
      await revocations.revokeToken(b.jti, b.clientId, b.aud, expiresAt, at);
      const all = await revocations.listAfter('0', 10);
      expect(all).toEqual([
        { seq: expect.any(String), kind: 'token', jti: a.jti, clientId: a.clientId, audience: ['https://api.example', 'https://other.example'], expiresAt, revokedAt: at },
        { seq: expect.any(String), kind: 'issued-before', clientId: 'client-a', subject: 'alice', grantId: null, issuedBefore: at, expiresAt, revokedAt: at },
        { seq: expect.any(String), kind: 'token', jti: b.jti, clientId: b.clientId, audience: [], expiresAt, revokedAt: at },
      ]);
      const seqs = all.map((e) => BigInt(e.seq));
      expect(seqs[0] < seqs[1] && seqs[1] < seqs[2]).toBe(true);
      expect(await revocations.latestSeq()).toBe(all[2].seq);
      expect(await revocations.listAfter(all[0].seq, 1)).toEqual([all[1]]);
      expect(await revocations.listAfter(all[2].seq, 10)).toEqual([]);
    });

    it('purges only entries that can no longer match an unexpired token', async () => {
      const old = someClaims();
      const current = someClaims();
      await revocations.revokeToken(old.jti, old.clientId, old.aud, new Date('2026-01-01T00:10:00Z'), at);
      await revocations.revokeToken(current.jti, current.clientId, current.aud, expiresAt, at);
      await markIssuedBefore({ clientId: 'client-a', issuedBefore: at, expiresAt: new Date('2026-01-01T00:20:00Z') });
      expect(await revocations.purgeExpired(new Date('2026-01-01T00:30:00Z'))).toBe(2);
      expect((await revocations.listAfter('0', 10)).map((e) => e.kind === 'token' && e.jti)).toEqual([current.jti]);
      expect(await revocations.isRevoked(current)).toBe(true);
    });

    // What the access-token cache's fence reads: an entry is at or below latestSeq as soon as the call that appended
    // it returned, whichever call it was; after a purge it is the highest seq left ('0' when none is).
    it('has every entry whose call returned at or below latestSeq, and the highest left after a purge', async () => {
      const seqs: bigint[] = [];
      const latest = async () => BigInt(await revocations.latestSeq());
      const a = someClaims();
      await revocations.revokeToken(a.jti, a.clientId, a.aud, new Date('2026-01-01T00:10:00Z'), at);
      seqs.push(await latest());
      const c = aClient();
      await clients.create(c);
      await revocations.revokeGrant(c.clientId, randomUUID(), at);
      seqs.push(await latest());
      await revocations.revokeSubject('alice', at);
      seqs.push(await latest());
      const entries = await revocations.listAfter('0', 10);
      expect(seqs).toEqual([0, 1, 2].map((i) => BigInt(entries[i].seq)));
      expect(BigInt(entries.at(-1)!.seq)).toBe(seqs[2]);
      // Purged at the end of the log: latestSeq goes down.
      const b = someClaims();
      await revocations.revokeToken(b.jti, b.clientId, b.aud, new Date('2026-01-01T00:10:00Z'), at);
      expect(await latest()).toBeGreaterThan(seqs[2]);
      expect(await revocations.purgeExpired(new Date('2026-01-01T00:20:00Z'))).toBe(2);
      expect(await latest()).toBe(seqs[2]);
      expect(await revocations.purgeExpired(new Date('2026-03-01T00:00:00Z'))).toBe(2);
      expect(await revocations.latestSeq()).toBe('0');
    });
  });
}
