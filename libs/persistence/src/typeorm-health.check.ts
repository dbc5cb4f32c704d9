import { HealthCheck } from '@tessera/oauth-core';
import type { DataSource } from 'typeorm';
import { translateOutage } from './database-outage.js';

export class TypeOrmHealthCheck extends HealthCheck {
  constructor(private readonly dataSource: DataSource) {
    super();
  }

  ping(): Promise<void> {
    return translateOutage(async () => {
      await this.dataSource.query('SELECT 1');
    });
  }
}
