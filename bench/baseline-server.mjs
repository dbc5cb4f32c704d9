// The bare baselines of the auth-server benchmark (bench/auth-server.mjs), in a process of their own: Fastify
// routes with nothing but the one piece of work each, through the libraries the auth server uses (fastify, pg,
// jose), so that the auth server's figures can be read as ratios to what that work costs on this machine, now.
//   POST /insert  one INSERT of a token-sized row (a new opaque token: 32 random bytes, stored by SHA-256) into a
//                 copy of access_tokens (same columns, keys, index and client foreign key), answered like a token
//                 response;
//   POST /select  one SELECT by primary key (the SHA-256 of the form's `token`) from that table, answered like an
//                 introspection response;
//   POST /sign    one ES256 signature: an RFC 9068 JWT of the same claims and header as Tessera's, answered like a
//                 token response.
// Form bodies are parsed (as URLSearchParams), as the auth server must. Statements are prepared (named), on a pg
// pool of the auth server's size. Its one argument is JSON: { databaseUrl, port, poolSize, issuer, audience }.
//   node bench/baseline-server.mjs '{"databaseUrl":"postgres://...","port":3100,"poolSize":10,...}'
import { createHash, randomBytes } from 'node:crypto';
import Fastify from 'fastify';
import { generateKeyPair, SignJWT } from 'jose';
import pg from 'pg';

const { databaseUrl, port, poolSize, issuer, audience } = JSON.parse(process.argv[2]);
const SCHEMA = 'bench_baseline';
const CLIENT_ID = 'baseline-client';
const TTL_SECONDS = 3600;

const pool = new pg.Pool({ connectionString: databaseUrl, max: poolSize, keepAlive: true, statement_timeout: 10_000, application_name: 'tessera-bench-baseline' });
pool.on('error', () => undefined); // an idle connection lost when PostgreSQL stops at cleanup

// The table of the auth server's access tokens, in a schema of its own (see the initial-schema migration).
await pool.query(`CREATE SCHEMA IF NOT EXISTS ${SCHEMA}`);
await pool.query(`CREATE TABLE IF NOT EXISTS ${SCHEMA}.clients (client_id varchar(64) PRIMARY KEY)`);
await pool.query(`
  CREATE TABLE IF NOT EXISTS ${SCHEMA}.access_tokens (
    token_hash varchar(64) NOT NULL,
    jti varchar(64) NOT NULL,
    client_id varchar(64) NOT NULL,
    issuer text NOT NULL,
    subject varchar(255) NOT NULL,
    audience text[] NOT NULL,
    scopes text[] NOT NULL,
    grant_id uuid,
    issued_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    revoked_at timestamptz,
    CONSTRAINT baseline_access_tokens_pkey PRIMARY KEY (token_hash),
    CONSTRAINT baseline_access_tokens_jti_key UNIQUE (jti),
    CONSTRAINT baseline_access_tokens_client_id_fkey FOREIGN KEY (client_id) REFERENCES ${SCHEMA}.clients (client_id) ON DELETE CASCADE
  )`);
await pool.query(`CREATE INDEX IF NOT EXISTS baseline_access_tokens_expires_at_idx ON ${SCHEMA}.access_tokens (expires_at)`);
await pool.query(`INSERT INTO ${SCHEMA}.clients (client_id) VALUES ($1) ON CONFLICT DO NOTHING`, [CLIENT_ID]);

const INSERT = `INSERT INTO ${SCHEMA}.access_tokens (token_hash, jti, client_id, issuer, subject, audience, scopes, grant_id, issued_at, expires_at)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`;
const SELECT = `SELECT client_id, subject, audience, scopes, issued_at, expires_at, revoked_at FROM ${SCHEMA}.access_tokens WHERE token_hash = $1`;

const { privateKey } = await generateKeyPair('ES256');
const kid = randomBytes(8).toString('base64url');
const sha256 = (s) => createHash('sha256').update(s).digest('base64url');

const app = Fastify({ logger: false });
app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => done(null, new URLSearchParams(body)));

app.get('/ready', async () => ({ ready: true }));

app.post('/insert', async (_req, reply) => {
  const token = `tsr_at_${randomBytes(32).toString('base64url')}`;
  const now = new Date();
  await pool.query({
    name: 'baseline-insert',
    text: INSERT,
    values: [sha256(token), randomBytes(16).toString('base64url'), CLIENT_ID, issuer, CLIENT_ID, [audience], ['bench'], null, now, new Date(now.getTime() + TTL_SECONDS * 1000)],
  });
  reply.header('cache-control', 'no-store');
  return { access_token: token, token_type: 'Bearer', expires_in: TTL_SECONDS, scope: 'bench' };
});

app.post('/select', async (req) => {
  const token = req.body?.get('token') ?? '';
  const { rows } = await pool.query({ name: 'baseline-select', text: SELECT, values: [sha256(token)] });
  const row = rows[0];
  if (!row || row.revoked_at || row.expires_at <= new Date()) return { active: false };
  return {
    active: true,
    client_id: row.client_id,
    scope: row.scopes.join(' '),
    sub: row.subject,
    aud: row.audience,
    iss: issuer,
    iat: Math.floor(row.issued_at.getTime() / 1000),
    exp: Math.floor(row.expires_at.getTime() / 1000),
    token_type: 'Bearer',
  };
});

app.post('/sign', async (_req, reply) => {
  const iat = Math.floor(Date.now() / 1000);
  const token = await new SignJWT({ iss: issuer, sub: CLIENT_ID, aud: audience, exp: iat + TTL_SECONDS, iat, jti: randomBytes(16).toString('base64url'), client_id: CLIENT_ID, scope: 'bench' })
    .setProtectedHeader({ alg: 'ES256', kid, typ: 'at+jwt' })
    .sign(privateKey);
  reply.header('cache-control', 'no-store');
  return { access_token: token, token_type: 'Bearer', expires_in: TTL_SECONDS, scope: 'bench' };
});

await app.listen({ host: '127.0.0.1', port });
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.once(signal, async () => {
    await app.close();
    await pool.end().catch(() => undefined);
    process.exit(0);
  });
}
