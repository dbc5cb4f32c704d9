import { isDatabaseOutage, pgPool, type GroupCommitObserver } from '@tessera/persistence';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { DataSource } from 'typeorm';
import { ChildCache } from './child-cache.js';
import { METRIC_PREFIX } from './metrics-registry.js';

/**
 * The connection pool under the app's TypeORM DataSource (the same pool that `pgPool()` gives the hot paths'
 * prepared statements), read at scrape time: it answers while PostgreSQL is down, which is when it matters.
 */
export function registerPoolMetrics(registry: Registry, dataSource: DataSource, pool = 'main'): void {
  const read = (what: (p: ReturnType<typeof pgPool>) => number) =>
    function (this: Gauge<'pool'>) {
      // Before the first connection (or after close) there is no pool: no sample.
      if (!dataSource.isInitialized) return;
      this.set({ pool }, what(pgPool(dataSource)));
    };
  const gauge = (name: string, help: string, collect: (this: Gauge<'pool'>) => void) =>
    new Gauge({ name: `${METRIC_PREFIX}${name}`, help, labelNames: ['pool'], registers: [registry], collect });
  gauge('database_pool_connections', 'Connections the PostgreSQL pool holds, busy or idle.', read((p) => p.totalCount));
  gauge('database_pool_idle_connections', 'Connections of the PostgreSQL pool that are idle.', read((p) => p.idleCount));
  gauge('database_pool_waiting_requests', 'Queries waiting for a connection of the PostgreSQL pool.', read((p) => p.waitingCount));
  gauge('database_pool_max_connections', 'The most connections the PostgreSQL pool opens.', read((p) => p.options.max ?? 10));
}

/**
 * `tessera_database_outage_errors_total{route}`: requests that failed because PostgreSQL could not serve them
 * (the errors `isDatabaseOutage` classifies, answered 503 temporarily_unavailable), by route pattern.
 */
export class DatabaseOutageMetrics {
  private readonly children: ChildCache<{ inc(): void }>;

  constructor(registry: Registry) {
    const counter = new Counter({
      name: `${METRIC_PREFIX}database_outage_errors_total`,
      help: 'Requests answered 503 because PostgreSQL was unreachable or the connection broke, by route pattern.',
      labelNames: ['route'],
      registers: [registry],
    });
    this.children = new ChildCache((route) => counter.labels(route));
  }

  /** Counts `error` when it is (or wraps, as an OAuthError's or ApiError's cause) a database outage; says whether it was. */
  observe(error: unknown, route: string): boolean {
    const outage = isDatabaseOutage(error) || (typeof error === 'object' && error !== null && isDatabaseOutage((error as { cause?: unknown }).cause));
    if (outage) this.children.get(route).inc();
    return outage;
  }
}

/**
 * `tessera_group_commit_rows{statement}`: rows per group-commit statement (concurrent writes that shared one
 * INSERT or revocation statement, and its commit). Observed once per statement, not per request.
 */
export function groupCommitMetrics(registry: Registry): GroupCommitObserver {
  const histogram = new Histogram({
    name: `${METRIC_PREFIX}group_commit_rows`,
    help: 'Rows written per group-commit statement (concurrent writes sharing one statement and commit), by statement.',
    labelNames: ['statement'],
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512],
    registers: [registry],
  });
  const children = new ChildCache((statement) => histogram.labels(statement));
  return (statement, rows) => children.get(statement).observe(rows);
}
