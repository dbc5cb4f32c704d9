import net from 'node:net';

/**
 * A TCP forwarder for outage tests: connect through it, then `stop()` it to cut
 * every connection and refuse new ones, and `start()` it again on the same port.
 *
 * It also reads what clients send (the PostgreSQL wire protocol) and logs one
 * SQL text per round trip in `roundTrips`: a simple Query, or an extended-protocol
 * Sync (the statement last bound on that connection, named or not).
 */
export class TcpProxy {
  private server: net.Server | null = null;
  private readonly sockets = new Set<net.Socket>();
  port = 0;
  /** One entry per round trip a client started through the proxy: the statement's SQL text. */
  readonly roundTrips: string[] = [];

  constructor(private readonly target: { host: string; port: number }) {}

  /** The server sides of the connections that ran LISTEN, and their clients. */
  private readonly listening = new Map<net.Socket, net.Socket>();

  /**
   * Holds back everything PostgreSQL sends on the connections that ran LISTEN (their notifications, and the
   * answers to their probes), as a stalled connection would, until `resumeListeners`; the sockets stay open, so
   * the client sees no error. Other connections are not touched.
   */
  stallListeners(): void {
    for (const [upstream, client] of this.listening) {
      upstream.unpipe(client);
      upstream.pause();
    }
  }

  resumeListeners(): void {
    for (const [upstream, client] of this.listening) upstream.pipe(client);
  }

  /** `url` with its host and port replaced by the proxy's. */
  static async for(url: string): Promise<{ proxy: TcpProxy; url: string }> {
    const target = new URL(url);
    const proxy = new TcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
    await proxy.start();
    const proxied = new URL(url);
    proxied.hostname = '127.0.0.1';
    proxied.port = String(proxy.port);
    return { proxy, url: proxied.toString() };
  }

  async start(): Promise<void> {
    const server = net.createServer((client) => {
      const upstream = net.connect(this.target.port, this.target.host);
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on('close', () => this.sockets.delete(socket));
        socket.on('error', () => undefined);
      }
      const reader = new PgClientMessages((sql) => {
        this.roundTrips.push(sql);
        if (/^LISTEN /i.test(sql)) this.listening.set(upstream, client);
      });
      client.on('data', (chunk: Buffer) => reader.push(chunk));
      client.pipe(upstream).pipe(client);
      upstream.on('close', () => this.listening.delete(upstream));
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(this.port, '127.0.0.1', resolve));
    this.port = (server.address() as net.AddressInfo).port;
    this.server = server;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    for (const socket of this.sockets) socket.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/** SSLRequest and GSSENCRequest: answered with one byte, then the startup message still follows. */
const ENCRYPTION_REQUESTS = new Set([80877103, 80877104]);

/** Splits a client's side of a PostgreSQL connection into messages; reports the SQL of each round trip. */
class PgClientMessages {
  private buffered = Buffer.alloc(0);
  private startup = true;
  /** Per connection: prepared statement name → SQL ('' is the unnamed one), and the statement of the last Bind. */
  private readonly statements = new Map<string, string>();
  private bound = '';

  constructor(private readonly roundTrip: (sql: string) => void) {}

  push(chunk: Buffer): void {
    this.buffered = Buffer.concat([this.buffered, chunk]);
    for (;;) {
      const header = this.startup ? 0 : 1;
      if (this.buffered.length < header + 4) return;
      const length = this.buffered.readInt32BE(header);
      if (this.buffered.length < header + length) return;
      const type = this.startup ? '' : String.fromCharCode(this.buffered[0]);
      const body = this.buffered.subarray(header + 4, header + length);
      this.buffered = this.buffered.subarray(header + length);
      if (this.startup) {
        this.startup = body.length >= 4 && ENCRYPTION_REQUESTS.has(body.readInt32BE(0));
        continue;
      }
      const strings = () => body.toString('utf8').split('\0');
      if (type === 'Q') this.roundTrip(strings()[0]);
      else if (type === 'P') this.statements.set(strings()[0], strings()[1]);
      else if (type === 'B') this.bound = strings()[1];
      else if (type === 'S') this.roundTrip(this.statements.get(this.bound) ?? '');
    }
  }
}
