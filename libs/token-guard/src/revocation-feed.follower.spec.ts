import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FeedRevocation } from '@tessera/oauth-core';
import { RevocationFeedFollower } from './revocation-feed.follower.js';

const entry = (seq: number) =>
  `id: ${seq}\nevent: revocation\ndata: ${JSON.stringify({ seq: String(seq), type: 'jti', jti: `jti-${seq}`, exp: 4102444800 })}\n\n`;
/** Entries up to `seq` this resource server is not shown. */
const cursor = (seq: number) => `id: ${seq}\nevent: cursor\ndata: ${JSON.stringify({ seq: String(seq) })}\n\n`;
const KEY_1 = 'a2V5LW9uZS1vZi10aGlzLXJlc291cmNlLXNlcnZlci0wMTIz';
const KEY_2 = 'a2V5LXR3by1hZnRlci1uZXctY3JlZGVudGlhbHMtMDEyMzQ1';
const pseudonymKey = (key: string) => `event: pseudonym-key\ndata: ${JSON.stringify({ key })}\n\n`;
const caughtUp = (seq: number) => `event: caught-up\ndata: ${JSON.stringify({ seq: String(seq) })}\n\n`;
const heartbeat = (seq: number, ageMs = 0) => `event: heartbeat\ndata: ${JSON.stringify({ latest_seq: String(seq), age_ms: ageMs })}\n\n`;
const keys = `event: keys\ndata: ${JSON.stringify({ kids: ['k1'] })}\n\n`;

/** An SSE endpoint whose n-th connection writes `script[n]` (then stays open); records each connection's `after`. */
async function feedServer(script: string[][]): Promise<{ url: string; afters: string[]; write: (chunk: string) => void; close: () => Promise<void> }> {
  const afters: string[] = [];
  const open = new Set<ServerResponse>();
  const server: Server = createServer((req, res) => {
    afters.push(new URL(req.url!, 'http://x').searchParams.get('after')!);
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    open.add(res);
    for (const chunk of script[afters.length - 1] ?? []) res.write(chunk);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/feed`,
    afters,
    /** To the connection opened last. */
    write: (chunk) => [...open].at(-1)!.write(chunk),
    close: () => {
      for (const res of open) res.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

async function until(check: () => boolean, ms = 3000): Promise<void> {
  for (const end = Date.now() + ms; !check(); ) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

function follow(url: string, now?: () => number) {
  const applied: string[] = [];
  const keys: string[] = [];
  let resets = 0;
  const follower = new RevocationFeedFollower({
    endpoint: async () => url,
    credentials: () => ({ clientId: 'rs', clientSecret: 'secret' }),
    maxStalenessMs: 10_000,
    onEntries: (entries: FeedRevocation[]) => applied.push(...entries.map((e) => e.seq)),
    onPseudonymKey: (key) => keys.push(key),
    onReset: () => (resets += 1),
    now,
  });
  follower.start();
  return { follower, applied, keys, resets: () => resets };
}

describe('RevocationFeedFollower', () => {
  it('applies entries, and counts as current on a heartbeat that it has reached', async () => {
    const feed = await feedServer([['retry: 1000\n\n', entry(1), entry(2), caughtUp(2), heartbeat(2)]]);
    const { follower, applied } = follow(feed.url);
    try {
      await until(() => follower.status().caughtUp);
      expect(applied).toEqual(['1', '2']);
      expect(follower.status()).toEqual({ following: true, caughtUp: true, stale: false, lastSeq: '2' });
    } finally {
      follower.stop();
      await feed.close();
    }
  });

  it('moves its cursor past entries it is not shown (a cursor event), so the next heartbeat is no gap', async () => {
    const feed = await feedServer([[pseudonymKey(KEY_1), entry(1), cursor(3), caughtUp(3), heartbeat(3), cursor(5), heartbeat(5)]]);
    const { follower, applied, keys } = follow(feed.url);
    try {
      await until(() => follower.status().lastSeq === '5');
      expect(applied).toEqual(['1']);
      expect(keys).toEqual([KEY_1]);
      expect(follower.status()).toEqual({ following: true, caughtUp: true, stale: false, lastSeq: '5' });
      expect(feed.afters).toEqual(['0']); // no resync
    } finally {
      follower.stop();
      await feed.close();
    }
  });

  it('reads the feed again from the start when its pseudonym key changes (other credentials), after dropping what it kept', async () => {
    const feed = await feedServer([
      [pseudonymKey(KEY_1), entry(1), entry(2), caughtUp(2)],
      [pseudonymKey(KEY_1), caughtUp(2), heartbeat(2)],
      [pseudonymKey(KEY_2), entry(3)], // not applied: the key changed first
      [pseudonymKey(KEY_2), entry(2), entry(3), caughtUp(3)],
    ]);
    const { follower, applied, keys, resets } = follow(feed.url);
    try {
      await until(() => follower.status().caughtUp);
      feed.write('event: surprise\ndata: {}\n\n'); // a resync: the same key again on the next connection
      await until(() => feed.afters.length === 2 && follower.status().caughtUp);
      feed.write('event: surprise\ndata: {}\n\n');
      await until(() => feed.afters.length === 4 && follower.status().caughtUp);
      expect(keys).toEqual([KEY_1, KEY_2]);
      expect(resets()).toBe(1);
      expect(feed.afters).toEqual(['0', '2', '2', '0']);
      expect(applied).toEqual(['1', '2', '2', '3']);
    } finally {
      follower.stop();
      await feed.close();
    }
  });

  it.each([
    ['a cursor it cannot read', [entry(1), caughtUp(1), 'event: cursor\ndata: {"seq":"x"}\n\n', entry(4)]],
    ['a heartbeat ahead of what the stream delivered (a gap)', [entry(1), caughtUp(1), heartbeat(3), entry(4)]],
    ['an unknown event', [entry(1), caughtUp(1), 'event: revocation-v2\ndata: {}\n\n', entry(4)]],
    ['a heartbeat whose age it cannot read', [entry(1), caughtUp(1), 'event: heartbeat\ndata: {"latest_seq":"1","age_ms":-5}\n\n', entry(4)]],
    ['a revocation it cannot read', [entry(1), caughtUp(1), 'event: revocation\ndata: {"seq":"2","type":"jti"}\n\n', entry(4)]],
  ])('fails closed on %s: stale at once, nothing after it applied, and resumes from the last seq applied', async (_case, first) => {
    const feed = await feedServer([first, [entry(2), entry(3), entry(4), caughtUp(4), heartbeat(4)]]);
    const { follower, applied } = follow(feed.url);
    try {
      await until(() => feed.afters.length === 2 && follower.status().lastSeq === '4' && follower.status().caughtUp);
      expect(feed.afters).toEqual(['0', '1']);
      expect(applied).toEqual(['1', '2', '3', '4']); // entry 4 of the first connection was never applied: 2 and 3 came first
      expect(follower.stale()).toBe(false);
    } finally {
      follower.stop();
      await feed.close();
    }
  });

  it('is stale between the failure and the next catch-up', async () => {
    const feed = await feedServer([[entry(1), caughtUp(1), 'event: surprise\ndata: {}\n\n'], []]);
    const { follower } = follow(feed.url);
    try {
      await until(() => feed.afters.length === 2);
      expect(follower.status()).toMatchObject({ caughtUp: false, stale: true, lastSeq: '1' });
    } finally {
      follower.stop();
      await feed.close();
    }
  });

  describe('on a clock it is given', () => {
    // The watchdog checks every maxStalenessMs / 4 of real time (2.5 s here), so jumping this clock does not drop the connection.
    let clock = 0;
    const now = () => clock;

    it('counts a heartbeat as current from the read it follows (age_ms before it was sent), not from its arrival', async () => {
      clock = 0;
      const feed = await feedServer([[entry(1), caughtUp(1)]]);
      const { follower } = follow(feed.url, now);
      try {
        await until(() => follower.status().caughtUp);
        clock = 20_000;
        expect(follower.stale()).toBe(true);
        feed.write(heartbeat(1, 15_000)); // vouches for the log as of t = 5 000: still more than 10 s ago
        feed.write(keys); // says nothing about revocations
        await until(() => follower.status().lastSeq === '1' && feed.afters.length === 1);
        await new Promise((r) => setTimeout(r, 100));
        expect(follower.stale()).toBe(true);
        feed.write(heartbeat(1, 250));
        await until(() => !follower.stale());
      } finally {
        follower.stop();
        await feed.close();
      }
    });

    it('lets a request waiting on a stale feed go on as soon as a heartbeat proves it current', async () => {
      clock = 0;
      const feed = await feedServer([[entry(1), caughtUp(1)]]);
      const { follower } = follow(feed.url, now);
      try {
        await until(() => follower.status().caughtUp);
        clock = 20_000;
        let settled = false;
        const waiting = follower.nudge().then(() => (settled = true));
        await new Promise((r) => setTimeout(r, 100));
        expect(settled).toBe(false);
        feed.write(heartbeat(1));
        await until(() => settled, 1000);
        await waiting;
        expect(follower.stale()).toBe(false);
      } finally {
        follower.stop();
        await feed.close();
      }
    });
  });
});
