import { RateLimitRepository } from '@tessera/oauth-core';
import type { DataSource } from 'typeorm';
import { translateOutage } from './database-outage.js';

/** The rate-limit counts in `rate_limit_counts` (unlogged): one multi-row upsert per flush. */
export class TypeOrmRateLimitRepository extends RateLimitRepository {
  constructor(private readonly dataSource: DataSource) {
    super();
  }

  add(windowStart: Date, hits: ReadonlyMap<string, number>): Promise<Map<string, number>> {
    return translateOutage(async () => {
      // Sorted, so that two instances' upserts lock shared rows in one order and never deadlock.
      const keys = [...hits.keys()].sort();
      if (keys.length === 0) return new Map();
      const rows: { key: string; hits: string }[] = await this.dataSource.query(
        `INSERT INTO rate_limit_counts AS c (key, window_start, hits)
           SELECT k, $1, n FROM unnest($2::text[], $3::bigint[]) WITH ORDINALITY AS t(k, n, i) ORDER BY i
         ON CONFLICT (key, window_start) DO UPDATE SET hits = c.hits + EXCLUDED.hits
         RETURNING key, hits`,
        [windowStart, keys, keys.map((k) => hits.get(k)!)],
      );
      return new Map(rows.map((row) => [row.key, Number(row.hits)]));
    });
  }

  purgeBefore(before: Date): Promise<number> {
    return translateOutage(async () => {
      const [, affected] = (await this.dataSource.query('DELETE FROM rate_limit_counts WHERE window_start < $1', [before])) as [unknown, number];
      return affected ?? 0;
    });
  }
}
