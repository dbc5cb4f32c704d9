import { Logger, type OnModuleDestroy } from '@nestjs/common';
import { ChangeFeed, type ChangeEvent } from '@tessera/oauth-core';
import pg from 'pg';
import { CHANGE_CHANNEL, parseChangePayload } from './change-notification.js';
import { CONNECT_TIMEOUT_MS } from './data-source.js';

export interface PostgresChangeFeedOptions {
  url: string;
  /** Reconnect delays double from `minBackoffMs` up to `maxBackoffMs`. */
  minBackoffMs?: number;
  maxBackoffMs?: number;
}

/** How often the LISTEN connection is asked a question, and how long it has to answer. */
const PROBE_MS = 2000;

/**
 * Change events from every process, over PostgreSQL LISTEN/NOTIFY on a
 * dedicated connection. When that connection is lost it reconnects with capped
 * exponential backoff (100 ms to 500 ms by default), then emits `{ kind: 'all' }`:
 * notifications sent in between are lost, so every cache must be dropped. A
 * connection that stops answering (a half-open socket, a stalled backend: no error
 * ever comes) is found by a probe query every 2 s and replaced the same way. It
 * never throws into the process.
 */
export class PostgresChangeFeed extends ChangeFeed implements OnModuleDestroy {
  private readonly logger = new Logger(PostgresChangeFeed.name);
  private readonly listeners = new Set<(event: ChangeEvent) => void>();
  private client: pg.Client | null = null;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private probe?: NodeJS.Timeout;
  private probing = false;
  private closed = false;

  constructor(private readonly options: PostgresChangeFeedOptions) {
    super();
  }

  /** Connects and listens; rejects when the first connection fails. Once started, it reconnects on its own. */
  async start(): Promise<void> {
    await this.listen();
  }

  subscribe(listener: (event: ChangeEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    clearInterval(this.probe);
    const client = this.client;
    this.client = null;
    await client?.end().catch(() => undefined);
  }

  onModuleDestroy(): Promise<void> {
    return this.close();
  }

  private async listen(): Promise<void> {
    const client = new pg.Client({ connectionString: this.options.url, connectionTimeoutMillis: CONNECT_TIMEOUT_MS, keepAlive: true });
    client.on('error', (error) => this.lost(client, error));
    client.on('end', () => this.lost(client));
    client.on('notification', ({ payload }) => {
      const event = payload === undefined ? null : parseChangePayload(payload);
      if (event) this.emit(event);
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANGE_CHANNEL}`);
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
    if (this.closed) {
      await client.end().catch(() => undefined);
      return;
    }
    this.client = client;
    if (!this.probe) {
      this.probe = setInterval(() => void this.check(), PROBE_MS);
      this.probe.unref();
    }
  }

  /** A query on the LISTEN connection that gets no answer in PROBE_MS means that connection is stalled: replace it. */
  private async check(): Promise<void> {
    const client = this.client;
    if (!client || this.probing) return;
    this.probing = true;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'stalled'>((resolve) => (timer = setTimeout(() => resolve('stalled'), PROBE_MS)));
    const outcome = await Promise.race([client.query('SELECT 1').then(() => 'ok', () => 'failed'), timeout]);
    clearTimeout(timer);
    this.probing = false;
    if (outcome === 'stalled') this.lost(client, new Error(`no answer to a probe query in ${PROBE_MS} ms: the connection is stalled`));
  }

  private lost(client: pg.Client, error?: Error): void {
    if (client !== this.client) return; // a failed attempt, or already handled
    this.client = null;
    this.logger.warn(`LISTEN connection lost (${error?.message ?? 'ended'}); reconnecting`);
    client.end().catch(() => undefined);
    this.scheduleReconnect(0);
  }

  private scheduleReconnect(attempt: number): void {
    if (this.closed) return;
    const { minBackoffMs = 100, maxBackoffMs = 500 } = this.options;
    const delay = Math.min(maxBackoffMs, minBackoffMs * 2 ** attempt);
    this.reconnectTimer = setTimeout(async () => {
      this.reconnectTimer = null;
      try {
        await this.listen();
      } catch (error) {
        // Once per outage, not at every attempt.
        if (attempt === 0) this.logger.warn(`LISTEN reconnect failed (${(error as Error).message}); retrying every ${maxBackoffMs} ms`);
        this.scheduleReconnect(attempt + 1);
        return;
      }
      if (this.closed) return;
      this.logger.log(`LISTEN connection restored${attempt > 0 ? ` after ${attempt + 1} attempts` : ''}`);
      this.emit({ kind: 'all' });
    }, delay);
  }

  private emit(event: ChangeEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (error) {
        this.logger.error(`A change listener threw on ${JSON.stringify(event)}`, (error as Error).stack);
      }
    }
  }
}
