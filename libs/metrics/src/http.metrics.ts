import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Histogram, type Registry } from 'prom-client';
import { ChildCache } from './child-cache.js';
import { METRIC_PREFIX } from './metrics-registry.js';

/** Request latency in seconds: from under a millisecond (a cached introspection) to the 10 s request timeout. */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const STATUS_CLASSES = ['other', '1xx', '2xx', '3xx', '4xx', '5xx'];
/** The route label of a request no route matched (404s): never its path, which the caller chooses. */
export const UNMATCHED_ROUTE = 'unmatched';

/**
 * `tessera_http_request_duration_seconds{method, route, status_class}`: one histogram of every answered request,
 * labelled by route pattern (`/api/notes/:id`, not the path), method and status class. Observed in a Fastify
 * `onResponse` hook from `reply.elapsedTime` (Fastify's own clock, started when the request arrived).
 */
export class HttpMetrics {
  private readonly histogram: Histogram<'method' | 'route' | 'status_class'>;
  /** By route pattern, method and status class. */
  private readonly children: ChildCache<{ observe(seconds: number): void }>;

  constructor(registry: Registry) {
    const histogram = (this.histogram = new Histogram({
      name: `${METRIC_PREFIX}http_request_duration_seconds`,
      help: 'Time from receiving a request to sending its answer, by route pattern, method and status class.',
      labelNames: ['method', 'route', 'status_class'],
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    }));
    this.children = new ChildCache((route, method, statusClass) => histogram.labels(method, route, statusClass));
  }

  /** Installs the hook; call before the app listens. */
  install(fastify: FastifyInstance): void {
    fastify.addHook('onResponse', (request, reply, done) => {
      this.observe(request, reply);
      done();
    });
  }

  private observe(request: FastifyRequest, reply: FastifyReply): void {
    const route = request.routeOptions.url ?? UNMATCHED_ROUTE;
    const status = reply.statusCode;
    const statusClass = STATUS_CLASSES[Math.floor(status / 100)] ?? 'other';
    this.children.get(route, request.method, statusClass).observe(reply.elapsedTime / 1000);
  }
}
