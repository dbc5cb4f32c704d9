import { collectDefaultMetrics, Registry } from 'prom-client';

/** Every metric name of both apps starts with it, the process and Node.js metrics included. */
export const METRIC_PREFIX = 'tessera_';

/**
 * A registry of one app instance (never prom-client's global one: tests run several instances in one
 * process), holding the process and Node.js metrics (CPU, memory, event-loop lag, GC, handles) under
 * the prefix. They are read at scrape time.
 */
export function createMetricsRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: METRIC_PREFIX });
  return registry;
}
