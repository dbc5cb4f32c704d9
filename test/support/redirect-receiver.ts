// The client's side of a redirect: a tiny HTTP server on 127.0.0.1 that records the query of every
// request to its redirect URI and answers a small page, as a web app's callback route would.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RedirectReceiver {
  /** `http://127.0.0.1:<port>/callback`, to register as a client's redirect_uri. */
  redirectUri: string;
  /** Every callback received, oldest first. */
  received: URL[];
  /** The last callback received, or undefined. */
  last(): URL | undefined;
  close(): Promise<void>;
}

export async function startRedirectReceiver(): Promise<RedirectReceiver> {
  const received: URL[] = [];
  let base = '';
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', base);
    if (url.pathname !== '/callback') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    received.push(url);
    const outcome = url.searchParams.has('code') ? 'Signed in' : `Not signed in: ${url.searchParams.get('error') ?? 'no code'}`;
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
    res.end(`<!doctype html><html><head><title>Client callback</title></head><body><h1 id="outcome">${escapeHtml(outcome)}</h1></body></html>`);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    redirectUri: `${base}/callback`,
    received,
    last: () => received.at(-1),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((e) => (e ? reject(e) : resolve()));
      }),
  };
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
