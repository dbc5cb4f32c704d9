import { InMemoryRevocationRepository } from '@tessera/testing';
import { LocalChangeFeed } from '../ports/change-feed.port.js';
import type { RevocationEntry } from '../ports/revocation.repository.js';
import { RevocationBroadcaster } from './revocation-broadcaster.js';

describe('RevocationBroadcaster', () => {
  it('reads again at once when asked right after a read delivered, not at the next poll', async () => {
    const log = new InMemoryRevocationRepository();
    const broadcaster = new RevocationBroadcaster(log, new LocalChangeFeed(), {}, 3_600_000);
    await broadcaster.start();
    const delivered: RevocationEntry[] = [];
    const second = new Promise<void>((resolve) =>
      broadcaster.subscribe((entries) => {
        delivered.push(...entries);
        if (delivered.length === 2) resolve();
      }),
    );
    // A notification that comes after the read's last query, while it is still finishing: once it has finished.
    const stop = broadcaster.onRead(() => {
      stop();
      log.markIssuedBefore({ clientId: 'c', issuedBefore: new Date() });
      broadcaster.pump();
    });
    log.markIssuedBefore({ clientId: 'c', issuedBefore: new Date() });
    broadcaster.pump();
    await second;
    expect(delivered.map((e) => e.seq)).toEqual(['1', '2']);
    broadcaster.stop();
  });
});
