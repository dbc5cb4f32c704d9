import { jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import type { ChangeEvent } from '@tessera/oauth-core';
import { aClient, createTestDatabase } from '@tessera/testing';
import pg from 'pg';
import type { DataSource } from 'typeorm';
import { createDataSource } from './data-source.js';
import { PostgresChangeFeed } from './postgres-change.feed.js';
import { TcpProxy } from '@tessera/testing';
import { TypeOrmClientRepository } from './typeorm-client.repository.js';
import { TypeOrmSigningKeyRepository } from './typeorm-signing-key.repository.js';

async function eventually(check: () => void | Promise<void>, timeoutMs = 3000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > until) throw error;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

describe('PostgresChangeFeed', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let admin: pg.Client;
  let feed: PostgresChangeFeed | undefined;
  let events: ChangeEvent[];

  beforeAll(async () => {
    db = await createTestDatabase();
    admin = new pg.Client({ connectionString: db.url });
    await admin.connect();
  });
  afterAll(async () => {
    await admin?.end();
    await db?.drop();
  });
  beforeEach(() => (events = []));
  afterEach(async () => {
    await feed?.close();
    feed = undefined;
  });

  async function startFeed(url = db.url): Promise<PostgresChangeFeed> {
    feed = new PostgresChangeFeed({ url, minBackoffMs: 20, maxBackoffMs: 200 });
    feed.subscribe((event) => events.push(event));
    await feed.start();
    return feed;
  }
  const notify = (payload: string) => admin.query(`SELECT pg_notify('tessera_changes', $1)`, [payload]);
  const listeners = async () =>
    Number(
      (
        await admin.query(
          `SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND query = 'LISTEN tessera_changes'`,
        )
      ).rows[0].n,
    );

  it('delivers NOTIFYs sent from another connection, ignoring payloads it does not know', async () => {
    await startFeed();
    await notify('client:abc');
    await notify('resource:unknown');
    await notify('signing-keys');
    await eventually(() => expect(events).toEqual([{ kind: 'client', clientId: 'abc' }, { kind: 'signing-keys' }]));
  });

  it('stops delivering to an unsubscribed listener and survives a listener that throws', async () => {
    const f = await startFeed();
    f.subscribe(() => {
      throw new Error('listener bug');
    });
    const seen: ChangeEvent[] = [];
    const unsubscribe = f.subscribe((e) => seen.push(e));
    await notify('client:a');
    await eventually(() => expect(seen).toHaveLength(1));
    unsubscribe();
    await notify('client:b');
    await eventually(() => expect(events).toHaveLength(2));
    expect(seen).toEqual([{ kind: 'client', clientId: 'a' }]);
  });

  it('reconnects after its connection is terminated, then emits "all" and keeps delivering', async () => {
    await startFeed();
    const { rowCount } = await admin.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND query = 'LISTEN tessera_changes'`,
    );
    expect(rowCount).toBe(1);
    await eventually(() => expect(events).toEqual([{ kind: 'all' }]));
    await notify('client:after');
    await eventually(() => expect(events).toEqual([{ kind: 'all' }, { kind: 'client', clientId: 'after' }]));
  });

  it('keeps retrying while PostgreSQL is unreachable and emits "all" once it is back', async () => {
    const { proxy, url } = await TcpProxy.for(db.url);
    try {
      await startFeed(url);
      await proxy.stop();
      await new Promise((r) => setTimeout(r, 500)); // several failed attempts
      expect(events).toEqual([]);
      await proxy.start();
      await eventually(() => expect(events).toEqual([{ kind: 'all' }]));
      await notify('signing-keys');
      await eventually(() => expect(events).toEqual([{ kind: 'all' }, { kind: 'signing-keys' }]));
    } finally {
      await feed?.close();
      await proxy.stop();
    }
  });

  it('replaces a LISTEN connection that stops answering (its backend frozen), says so, and keeps delivering', async () => {
    await startFeed();
    const { pid } = (
      await admin.query(`SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND query = 'LISTEN tessera_changes'`)
    ).rows[0] as { pid: number };
    const warnings: string[] = [];
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation((message: unknown) => void warnings.push(String(message)));
    process.kill(pid, 'SIGSTOP'); // stands in for a half-open TCP connection: no error, no answer
    try {
      // The probe (every 2 s, 2 s to answer) gives up on it, and a new connection listens.
      await eventually(() => expect(events).toContainEqual({ kind: 'all' }), 8000);
      expect(warnings).toEqual([expect.stringMatching(/^LISTEN connection lost \(no answer to a probe query in 2000 ms: the connection is stalled\); reconnecting$/)]);
      await notify('client:after-the-stall');
      await eventually(() => expect(events.at(-1)).toEqual({ kind: 'client', clientId: 'after-the-stall' }));
    } finally {
      process.kill(pid, 'SIGCONT');
      warn.mockRestore();
    }
  }, 15_000);

  it('rejects start() when PostgreSQL cannot be reached', async () => {
    const { proxy, url } = await TcpProxy.for(db.url);
    await proxy.stop();
    feed = new PostgresChangeFeed({ url });
    await expect(feed.start()).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('closes: no connection left, nothing delivered, no reconnecting', async () => {
    const f = await startFeed();
    expect(await listeners()).toBe(1);
    await f.close();
    await notify('client:late');
    await new Promise((r) => setTimeout(r, 300));
    expect(events).toEqual([]);
    expect(await listeners()).toBe(0);
  });

  describe('fed by the repositories', () => {
    let dataSource: DataSource;
    beforeAll(async () => {
      dataSource = await createDataSource(db.url).initialize();
      await dataSource.runMigrations();
    });
    afterAll(() => dataSource?.destroy());

    it('hears every client write and revocation, on commit', async () => {
      await startFeed();
      const clients = new TypeOrmClientRepository(dataSource);
      const client = aClient();
      await clients.create(client);
      await clients.update(client.clientId, { clientName: 'renamed' }, new Date());
      await clients.update('unknown-client', { clientName: 'x' });
      await notify('client:marker');
      await eventually(() => expect(events.at(-1)).toEqual({ kind: 'client', clientId: 'marker' }));
      expect(events).toEqual([
        { kind: 'client', clientId: client.clientId },
        { kind: 'revocation' }, // the issued-before mark the update recorded
        { kind: 'client', clientId: client.clientId },
        { kind: 'client', clientId: 'marker' },
      ]);
    });

    it('hears every signing-key write, and nothing from one rolled back', async () => {
      await startFeed();
      const keys = new TypeOrmSigningKeyRepository(dataSource);
      const key = (kid: string) =>
        ({ kid, alg: 'ES256', publicJwk: { kid }, privateKey: '{}', status: 'active', createdAt: new Date(), retiredAt: null, publishUntil: null }) as const;
      expect(await keys.insertFirst(key('k1'))).toBe(true);
      expect(await keys.insertFirst(key('k2'))).toBe(false);
      await keys.rotate(key('k3'), new Date(), new Date());
      await expect(keys.rotate(key('k3'), new Date(), new Date())).rejects.toMatchObject({ code: '23505' }); // duplicate kid
      await notify('client:marker');
      await eventually(() => expect(events.at(-1)).toEqual({ kind: 'client', clientId: 'marker' }));
      expect(events).toEqual([{ kind: 'signing-keys' }, { kind: 'signing-keys' }, { kind: 'client', clientId: 'marker' }]);
    });
  });
});
