import { Logger } from '@nestjs/common';
import { describeFailureSummary, FailureSummary } from '@tessera/oauth-core';
import type { DataSource } from 'typeorm';
import { pgPool } from './pg-pool.js';

/**
 * The log of a database outage as the requests meet it: the first failure in full, then one line per 10 s with
 * how many more requests failed, then one line when PostgreSQL accepts a connection again (the pool's `connect`).
 * Not a line per refused request: while PostgreSQL is down every request fails.
 */
export class DatabaseFailureLog {
  private readonly logger = new Logger('Database');
  private readonly summary: FailureSummary;

  constructor(dataSource: DataSource, intervalMs = 10_000) {
    this.summary = new FailureSummary(
      (line) => {
        const message = describeFailureSummary('database unavailable', line);
        if (line.kind === 'recovered') this.logger.log(message);
        else this.logger.warn(message);
      },
      { intervalMs },
    );
    pgPool(dataSource).on('connect', () => this.summary.success());
  }

  /** A request failed because the database is unreachable (`cause`: the driver's error; only its message is written). */
  failure(cause: unknown): void {
    this.summary.failure(cause instanceof Error ? cause.message : String(cause));
  }

  close(): void {
    this.summary.close();
  }
}
