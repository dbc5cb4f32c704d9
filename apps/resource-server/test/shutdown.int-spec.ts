// Issue 12: "SIGTERM during load losing no accepted request", for the resource server too. SIGTERM runs Nest's
// shutdown (enableShutdownHooks), which is what `app.close()` runs here: the server stops while clients keep
// writing notes over keep-alive connections. Every note answered 201 must be in the database afterwards; every
// other request must end as the API's own 503 or as a connection closed before it was read (never accepted); and
// no client may be left waiting on a keep-alive connection the stopping server no longer reads (before the fix,
// such requests hung until the server's 72 s keep-alive timeout, and the shutdown with them: this test timed out).
import pg from 'pg';
import { basicAuth, postForm, registerClient, startAuthServer, type RunningAuthServer } from '../../auth-server/test/auth-server.harness.js';
import { startResourceServer, type RunningResourceServer } from './resource-server.harness.js';

const CLIENTS = 16;
const ANSWERED_BEFORE_CLOSE = 200;

let auth: RunningAuthServer;
let rs: RunningResourceServer;
let token: string;
beforeAll(async () => {
  auth = await startAuthServer();
  rs = await startResourceServer({ issuer: auth.url });
  const client = await registerClient(auth.url, { access_token_format: 'jwt', scope: 'notes:read notes:write' });
  const res = await postForm(`${auth.url}/oauth2/token`, { grant_type: 'client_credentials', resource: rs.url }, { authorization: basicAuth(client.client_id, client.client_secret) });
  token = (await res.json()).access_token;
});
afterAll(async () => {
  await rs?.stop();
  await auth?.stop();
});

it('loses no note answered 201 when it stops under load, refuses the rest cleanly, and leaves no client waiting', async () => {
  const created: string[] = [];
  const refusals: { status: number; body: unknown; connection: string | null; retryAfter: string | null }[] = [];
  let answered = 0;
  let reached!: () => void;
  const target = new Promise<void>((r) => (reached = r));
  let closing = false;
  const loop = async (n: number) => {
    for (let i = 0; ; i++) {
      let res: Response;
      try {
        res = await fetch(`${rs.url}/api/notes`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ title: `note ${n}-${i}` }),
        });
      } catch (error) {
        if (!closing) throw error;
        return; // refused, or closed before a byte of response: never accepted
      }
      const body = (await res.json()) as Record<string, unknown>;
      if (res.status === 201) {
        created.push(body.id as string);
        if (++answered >= ANSWERED_BEFORE_CLOSE) reached();
        continue;
      }
      refusals.push({ status: res.status, body, connection: res.headers.get('connection'), retryAfter: res.headers.get('retry-after') });
      return;
    }
  };
  const loops = Array.from({ length: CLIENTS }, (_, n) => loop(n));
  await Promise.race([target, Promise.all(loops)]);
  closing = true;
  await rs.close();
  await Promise.all(loops);

  expect(created.length).toBeGreaterThanOrEqual(ANSWERED_BEFORE_CLOSE);
  for (const refusal of refusals) {
    expect(refusal).toEqual({
      status: 503,
      body: { error: 'temporarily_unavailable', error_description: 'the service is temporarily unavailable; try again shortly' },
      connection: 'close',
      retryAfter: '5',
    });
  }
  const db = new pg.Client({ connectionString: rs.databaseUrl });
  await db.connect();
  try {
    const rows = await db.query<{ id: string }>('SELECT id FROM notes WHERE id = ANY($1::uuid[])', [created]);
    expect(rows.rows.length).toBe(created.length);
  } finally {
    await db.end();
  }
}, 50_000);
