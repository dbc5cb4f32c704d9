import { randomUUID } from 'node:crypto';
import { hashToken, type Session, type User } from '@tessera/oauth-core';
import type { ContractPorts, MakePorts } from './contract-ports.js';
import { aUser } from './user.repository.contract.js';

/** The behaviour every SessionRepository shares; `makePorts` returns empty stores. */
export function sessionRepositoryContract(name: string, makePorts: MakePorts<'sessions' | 'users'>): void {
  describe(`${name}: SessionRepository contract`, () => {
    let sessions: ContractPorts['sessions'];
    let users: ContractPorts['users'];
    let alice: User;
    let seq = 0;
    const aHash = () => hashToken(`session-cookie-${++seq}-${randomUUID()}`);
    const createdAt = new Date('2026-01-01T00:00:00.000Z');
    const expiresAt = new Date('2026-01-01T08:00:00.000Z');
    const aSession = (overrides: Partial<Session> = {}): Session => ({ id: randomUUID(), userId: alice.id, createdAt, expiresAt, ...overrides });
    /** Creates a session under a fresh hash and returns that hash. */
    const created = async (session: Session = aSession()) => {
      const hash = aHash();
      await sessions.create(hash, session);
      return hash;
    };

    beforeEach(async () => {
      ({ sessions, users } = await makePorts());
      alice = aUser();
      await users.create(alice);
    });

    it('gives back an unexpired session with its user, and null for an unknown hash', async () => {
      const session = aSession();
      const hash = await created(session);
      expect(await sessions.findActive(hash, new Date('2026-01-01T07:59:59.999Z'))).toEqual({ session, user: alice });
      expect(await sessions.findActive(aHash(), createdAt)).toBeNull();
    });

    it('answers null from the instant the session expires', async () => {
      const hash = await created();
      expect(await sessions.findActive(hash, expiresAt)).toBeNull();
      expect(await sessions.findActive(hash, new Date('2026-01-02T00:00:00.000Z'))).toBeNull();
    });

    it('answers null for the session of a disabled user', async () => {
      const disabled = aUser({ disabledAt: new Date('2026-01-01T00:00:00.000Z') });
      await users.create(disabled);
      const hash = await created(aSession({ userId: disabled.id }));
      expect(await sessions.findActive(hash, createdAt)).toBeNull();
    });

    it('ends the sessions of a user when the user is disabled, and nobody else’s', async () => {
      const bob = aUser();
      await users.create(bob);
      const [a1, a2, b] = [await created(), await created(), await created(aSession({ userId: bob.id }))];
      await users.disable(alice.id, new Date('2026-01-01T01:00:00.000Z'));
      for (const hash of [a1, a2]) expect(await sessions.findActive(hash, createdAt)).toBeNull();
      expect((await sessions.findActive(b, createdAt))?.user).toEqual(bob);
      expect(await sessions.purgeExpired(new Date('2027-01-01T00:00:00.000Z'))).toBe(1); // only bob's was left
    });

    it('refuses a second session under the same hash', async () => {
      const hash = await created();
      await expect(sessions.create(hash, aSession())).rejects.toThrow();
    });

    it('deletes a session (sign-out), leaving the others, and ignores an unknown hash', async () => {
      const [signedOut, kept] = [await created(), await created()];
      await sessions.delete(signedOut);
      await sessions.delete(aHash());
      expect(await sessions.findActive(signedOut, createdAt)).toBeNull();
      expect(await sessions.findActive(kept, createdAt)).not.toBeNull();
    });

    it('purges the sessions expired at the given instant and counts them', async () => {
      const at = (iso: string) => aSession({ expiresAt: new Date(iso) });
      await created(at('2026-01-01T01:00:00.000Z'));
      await created(at('2026-01-01T02:00:00.000Z'));
      const later = await created(at('2026-01-01T02:00:00.001Z'));
      const now = new Date('2026-01-01T02:00:00.000Z');
      expect(await sessions.purgeExpired(now)).toBe(2);
      expect(await sessions.purgeExpired(now)).toBe(0);
      expect(await sessions.findActive(later, now)).not.toBeNull();
    });
  });
}
