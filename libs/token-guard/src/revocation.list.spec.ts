import { feedViewOf, type FeedRevocation, type RevocationEntry } from '@tessera/oauth-core';
import { RevocationList } from './revocation.list.js';
import type { TokenRecord } from './verified-access-token.js';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const KEY = 'a2V5LW9mLXRoaXMtcmVzb3VyY2Utc2VydmVyLTAxMjM0NQ';
const RS = { resourceServerFor: ['https://api.example'], revocationFeedKey: KEY };

/** A log entry as the auth server keeps it, in the view the feed gives this resource server. */
function viewed(entry: RevocationEntry): FeedRevocation {
  return feedViewOf(entry, RS)!;
}

function record(overrides: { jti?: string; clientId?: string; subject?: string; issuedAt?: number; grantId?: string | null } = {}): TokenRecord {
  return {
    token: {
      subject: overrides.subject ?? 'alice',
      clientId: overrides.clientId ?? 'client-a',
      scopes: [],
      audience: ['https://api.example'],
      issuer: 'https://as.example',
      expiresAt: new Date(T0 + 3600_000),
      jti: overrides.jti ?? 'jti-1',
      format: 'jwt',
    },
    issuedAt: overrides.issuedAt ?? T0 / 1000 - 60,
    grantId: overrides.grantId ?? null,
  };
}

describe('RevocationList', () => {
  it('revokes by jti until the entry expires, then forgets it', () => {
    let now = T0;
    const list = new RevocationList(() => now);
    list.add({ seq: '1', kind: 'token', jti: 'jti-1', expiresAt: new Date(T0 + 10_000) });
    expect(list.revokes(record())).toBe(true);
    expect(list.revokes(record({ jti: 'jti-2' }))).toBe(false);
    now += 11_000;
    list.purge();
    expect(list.size).toBe(0);
  });

  it('applies issued-before marks by client, narrowed to a subject or grant', () => {
    const list = new RevocationList(() => T0);
    list.usePseudonymKey(KEY);
    const mark = { seq: '1', kind: 'issued-before' as const, issuedBefore: new Date(T0), expiresAt: new Date(T0 + 86_400_000), revokedAt: new Date(T0) };
    list.add(viewed({ ...mark, clientId: 'client-a', subject: null, grantId: null }));
    list.add(viewed({ ...mark, clientId: 'client-b', subject: 'bob', grantId: null }));
    list.add(viewed({ ...mark, clientId: 'client-c', subject: null, grantId: 'g1' }));
    expect(list.revokes(record({ clientId: 'client-a' }))).toBe(true);
    expect(list.revokes(record({ clientId: 'client-a', issuedAt: T0 / 1000 }))).toBe(false); // issued at the mark: not before it
    expect(list.revokes(record({ clientId: 'client-b', subject: 'alice' }))).toBe(false);
    expect(list.revokes(record({ clientId: 'client-b', subject: 'bob' }))).toBe(true);
    expect(list.revokes(record({ clientId: 'client-c', grantId: 'g2' }))).toBe(false);
    expect(list.revokes(record({ clientId: 'client-c', grantId: 'g1' }))).toBe(true);
    expect(list.revokes(record({ clientId: 'client-d' }))).toBe(false);
    expect(list.size).toBe(3);
  });

  it('keeps nothing that has already expired', () => {
    const list = new RevocationList(() => T0);
    list.add({ seq: '1', kind: 'token', jti: 'old', expiresAt: new Date(T0 - 1) });
    expect(list.size).toBe(0);
  });

  it('sees marks only as pseudonyms under its own key, and drops them when the key changes', () => {
    const list = new RevocationList(() => T0);
    list.usePseudonymKey(KEY);
    const entry: RevocationEntry = {
      seq: '7', kind: 'issued-before', clientId: 'client-a', subject: 'alice', grantId: 'g1',
      issuedBefore: new Date(T0), expiresAt: new Date(T0 + 86_400_000), revokedAt: new Date(T0),
    };
    const view = viewed(entry);
    expect(JSON.stringify(view)).not.toMatch(/client-a|alice|g1/);
    // Another resource server's key gives other pseudonyms of the same ids.
    const other = feedViewOf(entry, { resourceServerFor: ['https://other.example'], revocationFeedKey: 'b3RoZXIta2V5LW9mLWFub3RoZXItc2VydmVyLTAxMjM0NQ' });
    expect(other).toMatchObject({ kind: 'issued-before' });
    expect((other as { client: string }).client).not.toBe((view as { client: string }).client);
    list.add(view);
    expect(list.revokes(record({ clientId: 'client-a', subject: 'alice', grantId: 'g1' }))).toBe(true);
    list.usePseudonymKey('bmV3LWtleS1hZnRlci1uZXctY3JlZGVudGlhbHMtMDEyMzQ1');
    expect(list.size).toBe(0);
    expect(list.revokes(record({ clientId: 'client-a', subject: 'alice', grantId: 'g1' }))).toBe(false);
  });
});
