// The OpenAPI description (/openapi.json) and its page (/docs), checked against the real endpoints on real
// PostgreSQL: every route the app registers is described and every described operation exists; every
// answer the tests provoke (successes and errors) has a documented status, documented headers and a body
// that validates against the documented schema (JSON Schema 2020-12, as OpenAPI 3.1 has it).
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { ValidateFunction } from 'ajv';
import { ClientRepository, s256Challenge } from '@tessera/oauth-core';
import { GRANT_PARAMETERS } from '../src/openapi/openapi.document.js';
import { TESSERA_VERSION } from '../src/openapi/openapi.controller.js';
import { HTTP_METHODS, type Header, type HttpMethod, type OpenApiDocument, type Operation, type Parameter, type Ref, type Response as DocResponse } from '../src/openapi/openapi.types.js';
import { aPerson, userDirectory, type Person } from '../../../test/support/users.js';
import { basicAuth, INITIAL_ACCESS_TOKEN, registerClient, startAuthServer, type RunningAuthServer } from './auth-server.harness.js';

const DOC_ID = 'https://tessera.invalid/openapi.json';
const REDIRECT_URI = 'https://app.example/cb';
const API = 'https://api.example';

let server: RunningAuthServer;
const LIMIT = 40;
const LIMITS = {
  TESSERA_RATE_LIMIT_TOKEN_PER_CLIENT: String(LIMIT),
  TESSERA_RATE_LIMIT_INTROSPECTION_PER_CLIENT: String(LIMIT),
  TESSERA_RATE_LIMIT_REVOCATION_PER_CLIENT: String(LIMIT),
  TESSERA_RATE_LIMIT_REGISTRATION_PER_ADDRESS: String(LIMIT),
};
let doc: OpenApiDocument;
let ajv: Ajv2020;
const validators = new Map<string, ValidateFunction>();
/** `operationId status [error]` of every answer checked against the document. */
const exercised = new Set<string>();

beforeAll(async () => {
  // Per-client and registration limits low enough for the last test to reach; nothing before it comes near.
  server = await startAuthServer({ proxy: true, env: { ...LIMITS } });
  const res = await fetch(`${server.url}/openapi.json`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
  doc = await res.json();
  ajv = new Ajv2020({ strict: true, allErrors: true });
  // The document is added whole, so that every `#/components/…` reference resolves; its own top-level
  // members are not schema keywords, and no schema is compiled from them (only the schemas pointed into).
  ajv.addVocabulary(['openapi', 'jsonSchemaDialect', 'info', 'servers', 'tags', 'paths', 'components']);
  ajv.addSchema(doc as object, DOC_ID);
});
afterAll(() => server.stop());

const escapePointer = (s: string) => s.replace(/~/g, '~0').replace(/\//g, '~1');
const isRef = (v: object): v is Ref => '$ref' in v;

function resolve<T>(value: T | Ref): T {
  if (!isRef(value as object)) return value as T;
  const path = (value as Ref).$ref.replace(/^#\//, '').split('/');
  return path.reduce<any>((node, key) => node?.[key.replace(/~1/g, '/').replace(/~0/g, '~')], doc) as T;
}

/** The validator of the schema at `pointer` (a JSON pointer into the document). */
function validatorAt(pointer: string): ValidateFunction {
  const known = validators.get(pointer);
  if (known) return known;
  const validate = ajv.compile({ $ref: `${DOC_ID}${pointer}` });
  validators.set(pointer, validate);
  return validate;
}

function expectValid(pointer: string, value: unknown, what: string): void {
  const validate = validatorAt(pointer);
  if (!validate(value)) throw new Error(`${what} does not match ${pointer}: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(value)}`);
}

function operation(path: string, method: HttpMethod): Operation {
  const op = doc.paths[path]?.[method];
  if (!op) throw new Error(`${method.toUpperCase()} ${path} is not documented`);
  return op;
}

/**
 * Checks an answer against the document: its status is documented for the operation, every documented
 * header is there (when required) and matches its schema, and the body matches the documented content.
 * Returns the body (parsed when JSON).
 */
function checkAnswer(path: string, method: HttpMethod, res: Response, text: string): any {
  const op = operation(path, method);
  const status = String(res.status);
  const declared = op.responses[status];
  if (!declared) throw new Error(`${method.toUpperCase()} ${path} answered ${status}, which is not documented: ${text.slice(0, 300)}`);
  const responsePointer = isRef(declared) ? declared.$ref.slice(1) : `/paths/${escapePointer(path)}/${method}/responses/${status}`;
  const response = resolve<DocResponse>(declared);
  for (const [name, h] of Object.entries(response.headers ?? {})) {
    const header = resolve<Header>(h);
    const value = res.headers.get(name);
    if (header.required && value === null) throw new Error(`${method.toUpperCase()} ${path} ${status}: header ${name} is missing: ${JSON.stringify([...res.headers])} ${text.slice(0, 300)}`);
    const pointer = isRef(h) ? `${h.$ref.slice(1)}/schema` : `${responsePointer}/headers/${escapePointer(name)}/schema`;
    if (value !== null) expectValid(`#${pointer}`, value, `${method.toUpperCase()} ${path} ${status} header ${name}`);
  }
  let body: any = text;
  if (!response.content) {
    expect(text).toBe('');
  } else {
    const type = (res.headers.get('content-type') ?? '').split(';')[0].trim();
    if (!response.content[type]) throw new Error(`${method.toUpperCase()} ${path} ${status}: content type "${type}" is not documented`);
    body = /json$/.test(type) ? JSON.parse(text) : text;
    expectValid(`#${responsePointer}/content/${escapePointer(type)}/schema`, body, `${method.toUpperCase()} ${path} ${status} body`);
  }
  exercised.add(`${op.operationId} ${status}`);
  if (body && typeof body === 'object' && typeof body.error === 'string') exercised.add(`${op.operationId} ${status} ${body.error}`);
  return body;
}

/** A request to a documented operation, its answer checked against the document. */
async function call(
  method: HttpMethod,
  path: string,
  o: { query?: string; headers?: Record<string, string>; form?: Record<string, string | string[]>; json?: unknown; body?: string; at?: string } = {},
): Promise<{ res: Response; body: any }> {
  const headers: Record<string, string> = { ...o.headers };
  let body = o.body;
  if (o.form) {
    const form = new URLSearchParams();
    for (const [k, v] of Object.entries(o.form)) for (const one of [v].flat()) form.append(k, one);
    body = form.toString();
    headers['content-type'] ??= 'application/x-www-form-urlencoded';
  }
  if (o.json !== undefined) {
    body = JSON.stringify(o.json);
    headers['content-type'] ??= 'application/json';
  }
  // `at`: where a templated path is requested (`/oauth2/register/{clientId}` at a real client's URI).
  const res = await fetch(`${server.url}${o.at ?? path}${o.query ? `?${o.query}` : ''}`, { method: method.toUpperCase(), headers, body, redirect: 'manual' });
  const text = await res.text();
  const answer = checkAnswer(path, method, res, text);
  // What the server accepted is what the document says it takes.
  if (res.status < 400) checkAccepted(path, method, o);
  return { res, body: answer };
}

/** A request the server accepted: its body validates against the documented request body, its query has the required parameters. */
function checkAccepted(path: string, method: HttpMethod, o: { query?: string; form?: Record<string, string | string[]>; json?: unknown }): void {
  const op = operation(path, method);
  const where = `${method.toUpperCase()} ${path} accepted a request`;
  if (op.requestBody) {
    const type = o.form ? 'application/x-www-form-urlencoded' : 'application/json';
    if (!op.requestBody.content[type]) throw new Error(`${where} with an undocumented ${type} body`);
    // In a form every value is a string; `resource` may repeat (documented as an array, exploded).
    const value = o.form ? Object.fromEntries(Object.entries(o.form).map(([k, v]) => [k, k === 'resource' ? [v].flat() : v])) : o.json;
    expectValid(`#/paths/${escapePointer(path)}/${method}/requestBody/content/${escapePointer(type)}/schema`, value, `${where}: its body`);
  }
  const query = new URLSearchParams(o.query ?? '');
  for (const ref of op.parameters ?? []) {
    const p = resolve<Parameter>(ref);
    if (p.in === 'query' && p.required && !query.has(p.name)) throw new Error(`${where} without the required query parameter ${p.name}`);
  }
}

// Fastify's HEAD route for each GET, and @fastify/cors's preflight route, are not operations of their own.
const documentedRoutes = () =>
  Object.entries(doc.paths).flatMap(([path, item]) => HTTP_METHODS.filter((m) => item[m]).map((m) => `${m.toUpperCase()} ${path}`));
const registeredRoutes = () =>
  server.routes
    .filter((r) => r.method !== 'HEAD' && !(r.method === 'OPTIONS' && r.url === '*'))
    .map((r) => `${r.method} ${r.url.replace(/:([A-Za-z0-9_]+)/g, '{$1}')}`);

describe('the document', () => {
  it('describes every route the app registers, and only those', () => {
    expect(registeredRoutes().length).toBeGreaterThan(10);
    expect(new Set(registeredRoutes())).toEqual(new Set(documentedRoutes()));
  });

  it('is structurally valid OpenAPI 3.1: every $ref resolves, operations have unique ids and responses', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info.version).toBe(JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')).version);
    expect(TESSERA_VERSION).toBe(doc.info.version);
    expect(doc.servers).toEqual([{ url: server.url, description: 'The issuer' }]);
    const refs: string[] = [];
    const walk = (node: unknown): void => {
      if (Array.isArray(node)) return node.forEach(walk);
      if (node && typeof node === 'object') {
        for (const [k, v] of Object.entries(node)) {
          if (k === '$ref' && typeof v === 'string') refs.push(v);
          else walk(v);
        }
      }
    };
    walk(doc);
    expect(refs.length).toBeGreaterThan(20);
    for (const ref of refs) {
      expect(ref).toMatch(/^#\/components\/(schemas|responses|headers|parameters)\/[A-Za-z0-9_]+$/);
      expect([ref, resolve({ $ref: ref })]).toEqual([ref, expect.anything()]);
    }
    const ids = documentedRoutes().map((r) => {
      const [method, path] = r.split(' ');
      const op = operation(path, method.toLowerCase() as HttpMethod);
      expect([r, Object.keys(op.responses).length]).toEqual([r, expect.any(Number)]);
      expect(Object.keys(op.responses).length).toBeGreaterThan(0);
      for (const status of Object.keys(op.responses)) expect(status).toMatch(/^[1-5][0-9]{2}$/);
      for (const requirement of op.security ?? []) for (const scheme of Object.keys(requirement)) expect(doc.components.securitySchemes).toHaveProperty(scheme);
      for (const tag of op.tags) expect(doc.tags.map((t) => t.name)).toContain(tag);
      // Each `{name}` of the path is a required path parameter, and there are no others.
      const declared = [...(doc.paths[path].parameters ?? []), ...(op.parameters ?? [])].map((p) => resolve<Parameter>(p)).filter((p) => p.in === 'path');
      expect([r, declared.map((p) => p.name).sort()]).toEqual([r, [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]).sort()]);
      for (const p of declared) expect([r, p.name, p.required]).toEqual([r, p.name, true]);
      return op.operationId;
    });
    expect(new Set(ids).size).toBe(ids.length);
    // Every schema compiles, and every example is valid against its schema.
    for (const name of Object.keys(doc.components.schemas)) validatorAt(`#/components/schemas/${name}`);
    const examples: [string, unknown][] = [];
    const collect = (node: unknown, pointer: string): void => {
      if (!node || typeof node !== 'object') return;
      const n = node as Record<string, any>;
      if (n.schema && n.examples && !Array.isArray(n.examples)) {
        for (const [name, ex] of Object.entries<any>(n.examples)) examples.push([`${pointer}/schema|${name}`, ex.value]);
      }
      for (const [k, v] of Object.entries(n)) collect(v, `${pointer}/${escapePointer(k)}`);
    };
    collect(doc, '');
    expect(examples.length).toBeGreaterThan(10);
    for (const [where, value] of examples) {
      const [pointer] = where.split('|');
      // Examples that stand for something the reader fills in (`tsr_cs_…`) are not checked.
      if (JSON.stringify(value).includes('…')) continue;
      expectValid(`#${pointer}`, value, `example ${where}`);
    }
  });

  it('documents the parameters of every registered grant at the token endpoint, exactly', () => {
    const body = doc.paths['/oauth2/token'].post!.requestBody!.content['application/x-www-form-urlencoded'].schema;
    expect(server.services.grants.map((g) => g.grantType)).toEqual(['client_credentials', 'authorization_code', 'refresh_token']);
    expect(body.oneOf!.map((s) => s.properties!.grant_type.const)).toEqual(server.services.grants.map((g) => g.grantType));
    for (const grant of server.services.grants) {
      expect(GRANT_PARAMETERS).toHaveProperty(grant.grantType);
      const schema = body.oneOf!.find((s) => s.properties!.grant_type.const === grant.grantType)!;
      expect(Object.keys(schema.properties!).sort()).toEqual(['client_id', 'client_secret', 'grant_type', ...grant.parameters].sort());
    }
  });

  it('describes Basic and form-post client authentication, and the bearer initial access token', () => {
    expect(doc.components.securitySchemes).toEqual({
      client_secret_basic: expect.objectContaining({ type: 'http', scheme: 'basic' }),
      registration_access_token: expect.objectContaining({ type: 'http', scheme: 'bearer' }),
      initial_access_token: expect.objectContaining({ type: 'http', scheme: 'bearer' }),
      session: expect.objectContaining({ type: 'apiKey', in: 'cookie', name: 'tessera_session' }),
    });
    expect(doc.paths['/oauth2/token'].post!.security).toEqual([{ client_secret_basic: [] }, {}]);
    expect(doc.paths['/oauth2/introspect'].post!.security).toEqual([{ client_secret_basic: [] }, {}]);
    expect(doc.paths['/oauth2/register'].post!.security).toEqual([{ initial_access_token: [] }]);
    expect(doc.paths['/oauth2/revocations'].get!.security).toEqual([{ client_secret_basic: [] }]);
    const introspectBody = doc.paths['/oauth2/introspect'].post!.requestBody!.content['application/x-www-form-urlencoded'];
    expect(Object.keys(introspectBody.schema.properties!)).toEqual(['token', 'token_type_hint', 'client_id', 'client_secret']);
  });
});

describe('a server with features switched off', () => {
  it('describes only what it registers (no registration, no authorization endpoint or pages)', async () => {
    const small = await startAuthServer({ env: { TESSERA_INITIAL_ACCESS_TOKEN: '', TESSERA_GRANTS: 'client_credentials' } });
    try {
      const described: OpenApiDocument = await (await fetch(`${small.url}/openapi.json`)).json();
      const documented = Object.entries(described.paths).flatMap(([path, item]) => HTTP_METHODS.filter((m) => item[m]).map((m) => `${m.toUpperCase()} ${path}`));
      const registered = small.routes.filter((r) => r.method !== 'HEAD' && r.url !== '*').map((r) => `${r.method} ${r.url}`);
      expect(new Set(registered)).toEqual(new Set(documented));
      expect(documented).not.toContain('POST /oauth2/register');
      expect(documented).not.toContain('GET /oauth2/authorize');
      const token = described.paths['/oauth2/token'].post!;
      expect(token.requestBody!.content['application/x-www-form-urlencoded'].schema.oneOf!.map((s) => s.properties!.grant_type.const)).toEqual(['client_credentials']);
      // No grant allows public clients: client_id without a secret is not a way in; client_secret_post still is.
      expect(token.security).toEqual([{ client_secret_basic: [] }, {}]);
      expect(Object.keys(described.components.securitySchemes)).toEqual(['client_secret_basic']);
    } finally {
      await small.stop();
    }
  });
});

describe('the endpoints answer as documented', () => {
  let confidential: { client_id: string; client_secret: string };
  let post: { client_id: string; client_secret: string };
  let web: { client_id: string; client_secret: string };
  let spa: { client_id: string };
  let rs: { client_id: string; client_secret: string };
  let person: Person;
  const basic = (c: { client_id: string; client_secret: string }) => ({ authorization: basicAuth(c.client_id, c.client_secret) });

  beforeAll(async () => {
    confidential = await registerClient(server.url, { client_name: 'job', scope: 'read write', resources: [API] });
    post = await registerClient(server.url, { client_name: 'post job', token_endpoint_auth_method: 'client_secret_post', access_token_format: 'jwt' });
    const code = { grant_types: ['authorization_code', 'refresh_token'], redirect_uris: [REDIRECT_URI], resources: [API], scope: 'read write' };
    web = await registerClient(server.url, { client_name: 'web app', ...code });
    spa = await registerClient(server.url, { client_name: 'spa', token_endpoint_auth_method: 'none', ...code });
    rs = await registerClient(server.url, { client_name: 'resource server', scope: '', resource_server_for: [API] });
    person = await aPerson(userDirectory(server), 'openapi');
  });

  const tokenFor = async (c: { client_id: string; client_secret: string }) =>
    (await call('post', '/oauth2/token', { form: { grant_type: 'client_credentials' }, headers: basic(c) })).body.access_token as string;

  async function codeFor(clientId: string) {
    const client = (await server.app.get(ClientRepository).findById(clientId))!;
    const codeVerifier = randomBytes(32).toString('base64url');
    const code = await server.services.authorizationCodeIssuer.issue({
      client, redirectUri: REDIRECT_URI, codeChallenge: s256Challenge(codeVerifier), codeChallengeMethod: 'S256', scope: ['read'], resources: [API], subject: person.user.id,
    });
    return { code, code_verifier: codeVerifier, redirect_uri: REDIRECT_URI };
  }

  it('token: every grant and client authentication method, and each error', async () => {
    const ok = await call('post', '/oauth2/token', { form: { grant_type: 'client_credentials', scope: 'read', resource: API }, headers: basic(confidential) });
    expect(ok.res.status).toBe(200);
    expect(ok.body).toEqual({ access_token: expect.stringMatching(/^tsr_at_/), token_type: 'Bearer', expires_in: 3600, scope: 'read' });
    const posted = await call('post', '/oauth2/token', { form: { grant_type: 'client_credentials', client_id: post.client_id, client_secret: post.client_secret } });
    expect(posted.res.status).toBe(200);
    const codeGrant = await call('post', '/oauth2/token', { form: { grant_type: 'authorization_code', client_id: spa.client_id, ...(await codeFor(spa.client_id)) } });
    expect(codeGrant.res.status).toBe(200);
    expect(codeGrant.body.refresh_token).toMatch(/^tsr_rt_/);
    const refreshed = await call('post', '/oauth2/token', { form: { grant_type: 'refresh_token', refresh_token: codeGrant.body.refresh_token, client_id: spa.client_id } });
    expect(refreshed.res.status).toBe(200);
    const webCode = await call('post', '/oauth2/token', { form: { grant_type: 'authorization_code', ...(await codeFor(web.client_id)) }, headers: basic(web) });
    expect(webCode.res.status).toBe(200);

    const errors: [Record<string, string | string[]>, Record<string, string>, number, string][] = [
      [{ scope: 'read' }, basic(confidential), 400, 'invalid_request'],
      [{ grant_type: 'client_credentials', scope: ['read', 'write'] }, basic(confidential), 400, 'invalid_request'],
      [{ grant_type: 'authorization_code', code: 'tsr_ac_nope', code_verifier: 'x'.repeat(43), redirect_uri: REDIRECT_URI }, basic(web), 400, 'invalid_grant'],
      [{ grant_type: 'refresh_token', refresh_token: 'tsr_rt_nope' }, basic(confidential), 400, 'unauthorized_client'],
      [{ grant_type: 'password', username: 'a', password: 'b' }, basic(confidential), 400, 'unsupported_grant_type'],
      [{ grant_type: 'client_credentials', scope: 'admin' }, basic(confidential), 400, 'invalid_scope'],
      [{ grant_type: 'client_credentials', resource: 'https://elsewhere.example' }, basic(confidential), 400, 'invalid_target'],
      [{ grant_type: 'client_credentials' }, basic({ ...confidential, client_secret: 'wrong' }), 401, 'invalid_client'],
      [{ grant_type: 'client_credentials' }, {}, 401, 'invalid_client'],
    ];
    for (const [form, headers, status, error] of errors) {
      const { res, body } = await call('post', '/oauth2/token', { form, headers });
      expect([form, res.status, body.error]).toEqual([form, status, error]);
    }
    const json = await call('post', '/oauth2/token', { json: { grant_type: 'client_credentials' }, headers: basic(confidential) });
    expect([json.res.status, json.body.error]).toEqual([400, 'invalid_request']);
  });

  it('introspection: active and inactive tokens, and each error', async () => {
    const token = await tokenFor(confidential);
    const active = await call('post', '/oauth2/introspect', { form: { token }, headers: basic(rs) });
    expect(active.body).toMatchObject({ active: true, client_id: confidential.client_id, aud: API });
    const webTokens = (await call('post', '/oauth2/token', { form: { grant_type: 'authorization_code', ...(await codeFor(web.client_id)) }, headers: basic(web) })).body;
    const refresh = await call('post', '/oauth2/introspect', { form: { token: webTokens.refresh_token, token_type_hint: 'refresh_token' }, headers: basic(web) });
    expect(refresh.body).toMatchObject({ active: true, client_id: web.client_id });
    expect(refresh.body).not.toHaveProperty('token_type');
    const inactive = await call('post', '/oauth2/introspect', { form: { token: 'tsr_at_unknown' }, headers: basic(rs) });
    expect(inactive.body).toEqual({ active: false });
    const withPost = await call('post', '/oauth2/introspect', { form: { token, client_id: post.client_id, client_secret: post.client_secret } });
    expect(withPost.body).toEqual({ active: false });

    expect((await call('post', '/oauth2/introspect', { form: {}, headers: basic(rs) })).body.error).toBe('invalid_request');
    expect((await call('post', '/oauth2/introspect', { form: { token }, headers: basic({ ...rs, client_secret: 'x' }) })).body.error).toBe('invalid_client');
    expect((await call('post', '/oauth2/introspect', { form: { token, client_id: spa.client_id } })).body.error).toBe('invalid_client');
  });

  it('revocation: revoked, unknown, and each error', async () => {
    const token = await tokenFor(confidential);
    expect((await call('post', '/oauth2/revoke', { form: { token, token_type_hint: 'access_token' }, headers: basic(confidential) })).res.status).toBe(200);
    const webTokens = (await call('post', '/oauth2/token', { form: { grant_type: 'authorization_code', ...(await codeFor(web.client_id)) }, headers: basic(web) })).body;
    expect((await call('post', '/oauth2/revoke', { form: { token: webTokens.refresh_token }, headers: basic(web) })).res.status).toBe(200);
    expect((await call('post', '/oauth2/revoke', { form: { token: 'unknown' }, headers: basic(confidential) })).res.status).toBe(200);
    expect((await call('post', '/oauth2/revoke', { form: { token: 'unknown', client_id: spa.client_id } })).res.status).toBe(200);
    expect((await call('post', '/oauth2/revoke', { form: {}, headers: basic(confidential) })).body.error).toBe('invalid_request');
    expect((await call('post', '/oauth2/revoke', { form: { token }, headers: basic({ ...confidential, client_secret: 'x' }) })).body.error).toBe('invalid_client');
  });

  it('registration: a client, and each error', async () => {
    const bearer = { authorization: `Bearer ${INITIAL_ACCESS_TOKEN}` };
    const created = await call('post', '/oauth2/register', { json: { client_name: 'doc', scope: 'read', access_token_format: 'jwt', access_token_lifetime: 600 }, headers: bearer });
    expect(created.res.status).toBe(201);
    expect(created.body).toMatchObject({ client_name: 'doc', client_secret: expect.stringMatching(/^tsr_cs_/), access_token_format: 'jwt' });
    const pub = await call('post', '/oauth2/register', { json: { token_endpoint_auth_method: 'none', redirect_uris: [REDIRECT_URI] }, headers: bearer });
    expect(pub.res.status).toBe(201);
    expect(pub.body).not.toHaveProperty('client_secret');

    expect((await call('post', '/oauth2/register', { json: {}, headers: { authorization: 'Bearer wrong' } })).body.error).toBe('invalid_token');
    expect((await call('post', '/oauth2/register', { json: {} })).res.headers.get('www-authenticate')).toMatch(/^Bearer /);
    expect((await call('post', '/oauth2/register', { form: { client_name: 'x' }, headers: bearer })).body.error).toBe('invalid_request');
    expect((await call('post', '/oauth2/register', { json: { access_token_format: 'paseto' }, headers: bearer })).body.error).toBe('invalid_client_metadata');
    expect((await call('post', '/oauth2/register', { json: { grant_types: ['authorization_code'] }, headers: bearer })).body.error).toBe('invalid_redirect_uri');
  });

  it('client configuration (RFC 7592): read, replace, delete, and each error', async () => {
    const bearer = { authorization: `Bearer ${INITIAL_ACCESS_TOKEN}` };
    const created = (await call('post', '/oauth2/register', { json: { client_name: 'managed', scope: 'read' }, headers: bearer })).body;
    expect(created).toMatchObject({ registration_access_token: expect.stringMatching(/^tsr_rat_/), registration_client_uri: `${server.url}/oauth2/register/${created.client_id}` });
    const path = `/oauth2/register/{clientId}`;
    const at = (id: string) => `/oauth2/register/${id}`;
    const rat = { authorization: `Bearer ${created.registration_access_token}` };
    const configuration = (method: HttpMethod, id: string, o: Parameters<typeof call>[2] = {}) => call(method, path, { ...o, at: at(id) });

    const read = await configuration('get', created.client_id, { headers: rat });
    expect(read.res.status).toBe(200);
    expect(read.body).not.toHaveProperty('client_secret');
    const replaced = await configuration('put', created.client_id, { json: { client_id: created.client_id, client_name: 'renamed', scope: 'read' }, headers: rat });
    expect([replaced.res.status, replaced.body.client_name]).toEqual([200, 'renamed']);
    expect((await configuration('put', created.client_id, { json: { client_id: created.client_id, access_token_format: 'paseto' }, headers: rat })).body.error).toBe('invalid_client_metadata');
    expect((await configuration('put', created.client_id, { json: { client_id: created.client_id, grant_types: ['authorization_code'] }, headers: rat })).body.error).toBe('invalid_redirect_uri');
    expect((await configuration('put', created.client_id, { body: 'client_name=x', headers: { ...rat, 'content-type': 'application/x-www-form-urlencoded' } })).body.error).toBe('invalid_request');
    expect((await configuration('put', created.client_id, { body: `{"client_name":"${'x'.repeat(server.config.http.bodyLimit)}"}`, headers: { ...rat, 'content-type': 'application/json' } })).res.status).toBe(413);
    expect((await configuration('put', created.client_id, { body: '<a/>', headers: { ...rat, 'content-type': 'application/xml' } })).res.status).toBe(415);
    const wrong = await configuration('get', created.client_id, { headers: { authorization: 'Bearer tsr_rat_wrong' } });
    expect([wrong.res.status, wrong.body.error]).toEqual([401, 'invalid_token']);
    expect((await configuration('get', confidential.client_id, { headers: rat })).res.status).toBe(401);
    expect((await configuration('delete', created.client_id, {})).res.status).toBe(401);
    expect((await configuration('delete', created.client_id, { headers: rat })).res.status).toBe(204);
    expect((await configuration('get', created.client_id, { headers: rat })).res.status).toBe(401);
    expect((await configuration('put', created.client_id, { json: { client_id: created.client_id }, headers: rat })).res.status).toBe(401);
  });

  it('every POST endpoint refuses an oversized body (413) and a media type it cannot parse (415) as documented', async () => {
    const large = 'x'.repeat(server.config.http.bodyLimit + 1);
    const posts = Object.entries(doc.paths).filter(([, item]) => item.post).map(([path]) => path);
    expect(posts.length).toBeGreaterThan(5);
    for (const path of posts) {
      const tooLarge = await call('post', path, { body: `a=${large}`, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      expect([path, tooLarge.res.status]).toEqual([path, 413]);
      const xml = await call('post', path, { body: '<a/>', headers: { 'content-type': 'application/xml' } });
      expect([path, xml.res.status]).toEqual([path, 415]);
    }
  });

  it('discovery, JWKS, health, the stylesheets and this description', async () => {
    const metadata = await call('get', '/.well-known/oauth-authorization-server');
    expect(metadata.body.registration_endpoint).toBe(`${server.url}/oauth2/register`);
    const jwks = await call('get', '/.well-known/jwks.json');
    expect(jwks.body.keys.map((k: { kty: string }) => k.kty)).toEqual(['EC']);
    // Keys of every algorithm, a retired one among them; revoking what a key signed puts a `kid` entry on the feed.
    await server.services.keys.rotate('EdDSA');
    await server.services.keys.rotate('RS256');
    const rotated = await call('get', '/.well-known/jwks.json');
    expect(rotated.body.keys.map((k: { kty: string }) => k.kty).sort()).toEqual(['EC', 'OKP', 'RSA']);
    expect(rotated.body.keys.filter((k: object) => 'retired_at' in k)).toHaveLength(2);
    await server.services.keys.rotate('ES256', { revokeSigned: true });
    const feed = await call('get', '/oauth2/revocations', { headers: basic(rs) });
    expect(feed.body.revocations).toContainEqual(expect.objectContaining({ type: 'kid' }));
    expect((await call('get', '/health/live')).body).toEqual({ status: 'ok' });
    expect((await call('get', '/health/ready')).body).toEqual({ status: 'ok', checks: { database: 'up' } });
    expect((await call('get', '/metrics')).body).toContain('# TYPE tessera_token_requests_total counter');
    expect((await call('get', '/assets/tessera.css')).res.status).toBe(200);
    expect((await call('get', '/docs/docs.css')).res.status).toBe(200);
    const described = await call('get', '/openapi.json', { headers: { origin: 'https://tools.example' } });
    expect(described.body.openapi).toBe('3.1.0');
    // API tools on another origin may load the document (no credentials); the page stays same-origin.
    expect(described.res.headers.get('access-control-allow-origin')).toBe('*');
    expect((await call('get', '/docs', { headers: { origin: 'https://tools.example' } })).res.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('the revocation feed: a JSON page, the event stream, and each error', async () => {
    await call('post', '/oauth2/revoke', { form: { token: await tokenFor(confidential) }, headers: basic(confidential) });
    const page = await call('get', '/oauth2/revocations', { query: 'after=0&limit=1000', headers: basic(rs) });
    // Each kind of entry: a token (jti), a grant (issued_before), a key (kid).
    expect(new Set(page.body.revocations.map((e: { type: string }) => e.type))).toEqual(new Set(['jti', 'issued_before', 'kid']));

    const controller = new AbortController();
    const stream = await fetch(`${server.url}/oauth2/revocations?after=0`, { headers: { ...basic(rs), accept: 'text/event-stream' }, signal: controller.signal });
    const reader = stream.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = '';
    while (!text.includes('event: caught-up')) {
      const chunk = await reader.read();
      if (chunk.done) break;
      text += chunk.value;
    }
    controller.abort();
    checkAnswer('/oauth2/revocations', 'get', stream, text);
    expect(stream.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(text).toContain('event: pseudonym-key');

    expect((await call('get', '/oauth2/revocations', { query: 'after=x', headers: basic(rs) })).body.error).toBe('invalid_request');
    expect((await call('get', '/oauth2/revocations', { headers: basic({ ...rs, client_secret: 'x' }) })).body.error).toBe('invalid_client');
    expect((await call('get', '/oauth2/revocations', { headers: basic(confidential) })).body.error).toBe('access_denied');
  });

  /** Signs `person` in through the pages; the session cookie and a CSRF cookie. */
  async function signIn(returnTo?: string): Promise<{ cookies: string; csrf: string }> {
    const form = await call('get', '/login', returnTo ? { query: new URLSearchParams({ return_to: returnTo }).toString() } : {});
    const csrfCookie = form.res.headers.getSetCookie()[0].split(';')[0];
    const csrf = /name="csrf" value="([^"]+)"/.exec(form.body)![1];
    const done = await call('post', '/login', { form: { csrf, username: person.username, password: person.password }, headers: { cookie: csrfCookie } });
    expect(done.res.status).toBe(303);
    const session = done.res.headers.getSetCookie()[0].split(';')[0];
    const cookies = `${csrfCookie}; ${session}`;
    const again = await call('get', '/login', { headers: { cookie: cookies } });
    return { cookies, csrf: /name="csrf" value="([^"]+)"/.exec(again.body)![1] };
  }

  const authorizeQuery = (extra: Record<string, string> = {}) =>
    new URLSearchParams({
      response_type: 'code', client_id: web.client_id, redirect_uri: REDIRECT_URI, scope: 'read', state: 's1',
      code_challenge: s256Challenge(randomBytes(32).toString('base64url')), code_challenge_method: 'S256', ...extra,
    }).toString();

  it('the authorization endpoint, sign-in, consent and sign-out pages', async () => {
    const toSignIn = await call('get', '/oauth2/authorize', { query: authorizeQuery() });
    expect(toSignIn.res.status).toBe(303);
    expect(toSignIn.res.headers.get('location')).toMatch(/^\/login\?return_to=/);
    expect((await call('get', '/oauth2/authorize', { query: authorizeQuery({ client_id: 'nobody' }) })).res.status).toBe(400);
    expect((await call('get', '/login', { query: 'return_to=%ZZ' })).res.status).toBe(400);
    const redirectedError = await call('get', '/oauth2/authorize', { query: authorizeQuery({ code_challenge_method: 'plain' }) });
    expect(redirectedError.res.status).toBe(302);
    expect(redirectedError.res.headers.get('location')).toMatch(/^https:\/\/app\.example\/cb\?error=invalid_request&/);

    const refused = await call('post', '/login', { form: { csrf: 'x', username: person.username, password: 'wrong' } });
    expect(refused.res.status).toBe(403);

    const { cookies, csrf } = await signIn();
    const query = authorizeQuery();
    expect((await call('get', '/login', { query: new URLSearchParams({ return_to: `/oauth2/authorize?${query}` }).toString(), headers: { cookie: cookies } })).res.status).toBe(303);
    const consent = await call('get', '/oauth2/authorize', { query, headers: { cookie: cookies } });
    expect(consent.res.status).toBe(200);
    const consentCsrf = /name="csrf" value="([^"]+)"/.exec(consent.body)![1];
    expect((await call('post', '/oauth2/authorize/decision', { form: { csrf: 'forged', request: query, decision: 'allow' }, headers: { cookie: cookies } })).res.status).toBe(403);
    expect((await call('post', '/oauth2/authorize/decision', { form: { csrf: consentCsrf, request: query, decision: 'maybe' }, headers: { cookie: cookies } })).res.status).toBe(400);
    const allowed = await call('post', '/oauth2/authorize/decision', { form: { csrf: consentCsrf, request: query, decision: 'allow', remember: 'yes' }, headers: { cookie: cookies } });
    expect(allowed.res.status).toBe(303);
    expect(allowed.res.headers.get('location')).toMatch(/^https:\/\/app\.example\/cb\?code=tsr_ac_/);
    const remembered = await call('get', '/oauth2/authorize', { query: authorizeQuery(), headers: { cookie: cookies } });
    expect(remembered.res.status).toBe(302);
    expect(remembered.res.headers.get('location')).toMatch(/^https:\/\/app\.example\/cb\?code=tsr_ac_/);
    expect((await call('post', '/login', { json: { username: 'x' } })).res.status).toBe(400);
    expect((await call('post', '/login', { form: { csrf, username: '' }, headers: { cookie: cookies } })).res.status).toBe(400);
    expect((await call('post', '/logout', { json: {} })).res.status).toBe(400);
    expect((await call('post', '/oauth2/authorize/decision', { json: {} })).res.status).toBe(400);
    const out = await call('post', '/logout', { form: { csrf }, headers: { cookie: cookies } });
    expect([out.res.status, out.res.headers.get('location')]).toEqual([303, '/login']);
  });

  it('sign-in: a wrong password (401), then throttled (429 with Retry-After)', async () => {
    const page = await call('get', '/login');
    const cookie = page.res.headers.getSetCookie()[0].split(';')[0];
    const csrf = /name="csrf" value="([^"]+)"/.exec(page.body)![1];
    const statuses: number[] = [];
    for (let i = 0; i <= server.config.signIn.maxFailuresPerAccount; i++) {
      statuses.push((await call('post', '/login', { form: { csrf, username: person.username + '-x', password: 'wrong-password' }, headers: { cookie } })).res.status);
    }
    expect(statuses.at(0)).toBe(401);
    expect(statuses.at(-1)).toBe(429);
  });

  it('while PostgreSQL is down: 503 temporarily_unavailable (JSON) or the 503 page, with Retry-After', async () => {
    const { cookies, csrf } = await signIn();
    const token = await tokenFor(confidential);
    await server.proxy!.stop();
    try {
      const down: [HttpMethod, string, Parameters<typeof call>[2]][] = [
        ['post', '/oauth2/token', { form: { grant_type: 'client_credentials' }, headers: basic(confidential) }],
        ['post', '/oauth2/introspect', { form: { token }, headers: basic(rs) }],
        ['post', '/oauth2/revoke', { form: { token }, headers: basic(confidential) }],
        ['post', '/oauth2/register', { json: {}, headers: { authorization: `Bearer ${INITIAL_ACCESS_TOKEN}` } }],
        ['get', '/oauth2/revocations', { headers: basic(rs) }],
        ...(['get', 'put', 'delete'] as const).map((method): [HttpMethod, string, Parameters<typeof call>[2]] => [
          method,
          '/oauth2/register/{clientId}',
          { at: `/oauth2/register/${confidential.client_id}`, ...(method === 'put' ? { json: {} } : {}), headers: { authorization: `Bearer tsr_rat_${'A'.repeat(43)}` } },
        ]),
        ['get', '/health/ready', {}],
        ['get', '/oauth2/authorize', { query: authorizeQuery(), headers: { cookie: cookies } }],
        ['post', '/oauth2/authorize/decision', { form: { csrf, request: authorizeQuery(), decision: 'allow' }, headers: { cookie: cookies } }],
        ['get', '/login', { headers: { cookie: cookies } }],
        ['post', '/login', { form: { csrf, username: person.username, password: person.password }, headers: { cookie: cookies } }],
        ['post', '/logout', { form: { csrf }, headers: { cookie: cookies } }],
      ];
      for (const [method, path, o] of down) {
        const { res } = await call(method, path, o);
        expect([path, res.status]).toEqual([path, 503]);
      }
    } finally {
      await server.proxy!.start();
    }
  });

  // Last, so that the budgets it spends are spent for no other test (the 503 test above registers too).
  it('over a rate limit: 429 too_many_requests with Retry-After on the token, introspection, revocation and registration endpoints', async () => {
    const busy = await registerClient(server.url, { client_name: 'busy job', scope: 'read' });
    const overLimit = async (method: HttpMethod, path: string, o: Parameters<typeof call>[2]) => {
      for (let i = 0; i <= LIMIT + 1; i++) {
        const { res, body } = await call(method, path, o);
        if (res.status === 429) return body;
      }
      throw new Error(`${path}: no 429 after ${LIMIT + 2} requests`);
    };
    const token = await tokenFor(busy);
    for (const [path, form] of [['/oauth2/token', { grant_type: 'client_credentials' }], ['/oauth2/introspect', { token }], ['/oauth2/revoke', { token: 'tsr_at_unknown' }]] as const) {
      expect(await overLimit('post', path, { form, headers: basic(busy) })).toEqual({ error: 'too_many_requests', error_description: expect.stringMatching(/^too many requests from this client/) });
    }
    const registration = await overLimit('post', '/oauth2/register', { json: { client_name: 'one more' }, headers: { authorization: `Bearer ${INITIAL_ACCESS_TOKEN}` } });
    expect(registration).toEqual({ error: 'too_many_requests', error_description: expect.stringMatching(/^too many requests from this address/) });
    // The configuration endpoint counts against the same budget per address.
    for (const method of ['get', 'put', 'delete'] as const) {
      const { body } = await call(method, '/oauth2/register/{clientId}', { ...(method === 'put' ? { json: {} } : {}), headers: { authorization: 'Bearer tsr_rat_x' } });
      expect(body).toEqual({ error: 'too_many_requests', error_description: expect.stringMatching(/^too many requests from this address/) });
    }
  });
});

describe('the /docs page', () => {
  it('renders every operation from the same document, links to /openapi.json, and loads nothing from elsewhere', async () => {
    const { res, body } = await call('get', '/docs');
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('content-security-policy')).toMatch(/^default-src 'none'; style-src 'self';/);
    expect(body).toContain('<a href="/openapi.json">/openapi.json</a>');
    expect(body).toContain('<link rel="stylesheet" href="/docs/docs.css">');
    for (const route of documentedRoutes()) {
      const [method, path] = route.split(' ');
      const op = operation(path, method.toLowerCase() as HttpMethod);
      expect(body).toContain(`id="${op.operationId}"`);
      expect(body).toContain(`<code class="path">${path}</code>`);
    }
    expect(body).toContain('<h5>grant_type=authorization_code</h5>');
    expect(body).toContain('<span class="media-type">application/x-www-form-urlencoded</span>');
    expect(body).toContain('&quot;error&quot;: &quot;invalid_client&quot;');
    expect(body).not.toMatch(/<script|<style|\sstyle=|\son[a-z]+=/i);
    expect(body).not.toMatch(/(src|href)="(https?:)?\/\//);
  });
});

describe('coverage of the documented responses', () => {
  /**
   * What the tests above do not provoke, and why. 500 (an unexpected error) is left out everywhere: nothing
   * here provokes one. The routes that never read PostgreSQL answer 503 only to a request that arrives while
   * the server stops (StoppingGuard; shutdown.int-spec.ts covers that answer).
   */
  const STOPPING_ONLY = 'answers 503 only while the server stops';
  const NOT_PROVOKED: Record<string, string> = Object.fromEntries(
    ['authorizationServerMetadata', 'jwks', 'live', 'metrics', 'openApiDocument', 'docsPage', 'docsStylesheet', 'pagesStylesheet'].map((id) => [`${id} 503`, STOPPING_ONLY]),
  );

  it('every documented status (and each 4xx error code) of every operation was provoked above, except those listed', () => {
    const missing: string[] = [];
    for (const route of documentedRoutes()) {
      const [method, path] = route.split(' ');
      const op = operation(path, method.toLowerCase() as HttpMethod);
      for (const [status, declared] of Object.entries(op.responses)) {
        if (status === '500') continue;
        if (!exercised.has(`${op.operationId} ${status}`)) missing.push(`${op.operationId} ${status}`);
        const schema = resolve<DocResponse>(declared).content?.['application/json']?.schema;
        for (const code of (schema?.properties?.error?.enum as string[] | undefined) ?? []) {
          if (status.startsWith('4') && !exercised.has(`${op.operationId} ${status} ${code}`)) missing.push(`${op.operationId} ${status} ${code}`);
        }
      }
    }
    expect(missing.sort()).toEqual(Object.keys(NOT_PROVOKED).sort());
  });
});
