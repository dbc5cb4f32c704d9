import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/** What a cross-origin path answers: any origin, without credentials. */
export interface CrossOriginOptions {
  methods: string[];
  allowedHeaders: string[];
  exposedHeaders: string[];
  maxAge: number;
}

const PREFLIGHT_DONE = Symbol('tessera.corsPreflight');

/**
 * CORS for a fixed set of paths, as @fastify/cors answers with a per-request delegator, without rebuilding its
 * options on every request: `Vary: Origin` on every answer (the decision depends on the path, so caches must
 * not share answers across origins), `Access-Control-Allow-Origin: *` and the exposed headers on the listed paths,
 * and their preflights (OPTIONS with Origin and Access-Control-Request-Method) answered 204 from the hook, before
 * anything else runs. A preflight elsewhere, or an OPTIONS that is not one, is a 404 (or 400 on a listed path).
 */
export function installCors(fastify: FastifyInstance, paths: ReadonlySet<string>, options: CrossOriginOptions): void {
  const methods = options.methods.join(', ');
  const allowedHeaders = options.allowedHeaders.join(', ');
  const exposedHeaders = options.exposedHeaders.join(', ');
  const maxAge = String(options.maxAge);

  fastify.addHook('onRequest', (request: FastifyRequest, reply: FastifyReply, done: (error?: Error) => void) => {
    addVaryOrigin(reply);
    const url = request.url;
    const query = url.indexOf('?');
    if (!paths.has(query === -1 ? url : url.slice(0, query))) return done();
    void reply.header('Access-Control-Allow-Origin', '*').header('Access-Control-Expose-Headers', exposedHeaders);
    if (request.raw.method !== 'OPTIONS') return done();
    if (!request.headers.origin || !request.headers['access-control-request-method']) {
      void reply.status(400).type('text/plain').send('Invalid Preflight Request');
      return;
    }
    (request as unknown as Record<symbol, boolean>)[PREFLIGHT_DONE] = true;
    void reply
      .header('Access-Control-Allow-Methods', methods)
      .header('Access-Control-Allow-Headers', allowedHeaders)
      .header('Access-Control-Max-Age', maxAge)
      .code(204)
      .header('Content-Length', '0')
      .send();
  });
  // Lets Fastify route preflights at all; those of the listed paths are answered by the hook above.
  fastify.options('*', (request, reply) => {
    if ((request as unknown as Record<symbol, boolean | undefined>)[PREFLIGHT_DONE]) return reply.send();
    reply.callNotFound();
  });
}

/** Adds `Origin` to the Vary header, keeping what is already there. */
function addVaryOrigin(reply: FastifyReply): void {
  const vary = reply.getHeader('vary');
  if (vary === undefined) {
    void reply.header('Vary', 'Origin');
    return;
  }
  const value = Array.isArray(vary) ? vary.join(', ') : String(vary);
  if (value === '*' || value.split(',').some((v) => v.trim().toLowerCase() === 'origin' || v.trim() === '*')) return;
  void reply.header('Vary', value.trim() === '' ? 'Origin' : `${value}, Origin`);
}
