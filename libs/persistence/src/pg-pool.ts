import type { Pool, QueryConfig, QueryResultRow } from 'pg';
import type { DataSource } from 'typeorm';

/**
 * The node-postgres pool under a TypeORM DataSource, for the hot paths that run one prepared statement per request
 * (introspection, revocation) without the entity manager's query building. Same connections, same settings.
 */
export function pgPool(dataSource: DataSource): Pool {
  const pool = (dataSource.driver as unknown as { master?: Pool }).master;
  if (!pool) throw new Error('the DataSource is not connected to PostgreSQL');
  return pool;
}

/** A named statement: each connection parses and plans it once, then only binds and executes it. */
export async function preparedQuery<R extends QueryResultRow>(dataSource: DataSource, statement: QueryConfig): Promise<R[]> {
  return (await pgPool(dataSource).query<R>(statement)).rows;
}
