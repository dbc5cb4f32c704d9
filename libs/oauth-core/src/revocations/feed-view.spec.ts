import type { RevocationEntry } from '../ports/revocation.repository.js';
import { feedPseudonym, feedRevocationMatches, feedViewOf } from './feed-view.js';

const KEY = 'a2V5LW9mLXRoaXMtcmVzb3VyY2Utc2VydmVyLTAxMjM0NQ';
const RS = { resourceServerFor: ['https://api.example'], revocationFeedKey: KEY };
const at = new Date('2026-01-01T00:00:00Z');
const expiresAt = new Date('2026-01-02T00:00:00Z');
const token = (audience: string[] | null): RevocationEntry => ({ seq: '1', kind: 'token', jti: 'j1', clientId: 'client-a', audience, expiresAt, revokedAt: at });

describe('feedViewOf', () => {
  it('shows a jti only to the resource servers of its audience (all, when the audience was not recorded), without its client', () => {
    expect(feedViewOf(token(['https://api.example', 'https://b.example']), RS)).toEqual({ seq: '1', kind: 'token', jti: 'j1', expiresAt });
    expect(feedViewOf(token(['https://b.example']), RS)).toBeNull();
    expect(feedViewOf(token([]), RS)).toBeNull();
    expect(feedViewOf(token(null), RS)).toEqual({ seq: '1', kind: 'token', jti: 'j1', expiresAt });
  });

  it('shows signing-key entries as they are', () => {
    expect(feedViewOf({ seq: '2', kind: 'key', kid: 'k1', expiresAt, revokedAt: at }, RS)).toEqual({ seq: '2', kind: 'key', kid: 'k1', expiresAt });
  });

  it('names the client, subject and grant of a mark by pseudonyms under the reader key', () => {
    const mark: RevocationEntry = { seq: '3', kind: 'issued-before', clientId: 'client-a', subject: 'alice', grantId: 'g1', issuedBefore: at, expiresAt, revokedAt: at };
    expect(feedViewOf(mark, RS)).toEqual({
      seq: '3',
      kind: 'issued-before',
      client: feedPseudonym(KEY, 'client', 'client-a'),
      subject: feedPseudonym(KEY, 'sub', 'alice'),
      grant: feedPseudonym(KEY, 'grant', 'g1'),
      issuedBefore: at,
      expiresAt,
    });
    // Kinds are kept apart: a subject named like a client has another pseudonym.
    expect(feedPseudonym(KEY, 'sub', 'client-a')).not.toBe(feedPseudonym(KEY, 'client', 'client-a'));
  });

  it('shows nothing to a client without the role', () => {
    expect(feedViewOf(token(null), { resourceServerFor: [], revocationFeedKey: null })).toBeNull();
  });
});

describe('feedRevocationMatches', () => {
  const pseudonym = (kind: 'client' | 'sub' | 'grant', value: string) => feedPseudonym(KEY, kind, value);
  const iat = at.getTime() / 1000 - 60;
  const claims = { jti: 'j9', clientId: 'client-a', sub: 'alice', grantId: 'g1', iat, kid: 'k1' };
  const view = (e: RevocationEntry) => feedViewOf(e, RS)!;
  const mark = (narrow: { subject?: string; grantId?: string }): RevocationEntry => ({
    seq: '4', kind: 'issued-before', clientId: 'client-a', subject: narrow.subject ?? null, grantId: narrow.grantId ?? null, issuedBefore: at, expiresAt, revokedAt: at,
  });

  it('matches what the auth server would, from the token claims alone', () => {
    expect(feedRevocationMatches(view(mark({})), claims, pseudonym)).toBe(true);
    expect(feedRevocationMatches(view(mark({ subject: 'alice' })), claims, pseudonym)).toBe(true);
    expect(feedRevocationMatches(view(mark({ subject: 'bob' })), claims, pseudonym)).toBe(false);
    expect(feedRevocationMatches(view(mark({ grantId: 'g1' })), claims, pseudonym)).toBe(true);
    expect(feedRevocationMatches(view(mark({ grantId: 'g1' })), { ...claims, grantId: null }, pseudonym)).toBe(false);
    expect(feedRevocationMatches(view(mark({})), { ...claims, clientId: 'client-b' }, pseudonym)).toBe(false);
    expect(feedRevocationMatches(view(mark({})), { ...claims, iat: at.getTime() / 1000 }, pseudonym)).toBe(false); // not issued before
    expect(feedRevocationMatches({ seq: '5', kind: 'key', kid: 'k1', expiresAt }, claims, pseudonym)).toBe(true);
    expect(feedRevocationMatches({ seq: '6', kind: 'token', jti: 'j9', expiresAt }, claims, pseudonym)).toBe(true);
  });
});
