import {
  Inject,
  Injectable,
  Module,
  type BeforeApplicationShutdown,
  type DynamicModule,
  type NestInterceptor,
  type OnApplicationBootstrap,
  type OnModuleInit,
  type Type,
} from '@nestjs/common';
import { APP_INTERCEPTOR, HttpAdapterHost } from '@nestjs/core';
import { Registry } from 'prom-client';
import { DataSource } from 'typeorm';
import { DatabaseOutageMetrics, registerPoolMetrics } from './database.metrics.js';
import { DatabaseOutageInterceptor } from './database-outage.interceptor.js';
import { HttpMetrics } from './http.metrics.js';
import { MetricsController } from './metrics.controller.js';
import { createMetricsRegistry } from './metrics-registry.js';
import { MetricsServer } from './metrics.server.js';

export interface MetricsSettings {
  /** A port of its own for GET /metrics; null: served on the app's port. */
  port: number | null;
  /** The address that port is bound to. */
  host: string;
}

const METRICS_SETTINGS = Symbol('METRICS_SETTINGS');

/** Hooks the request histogram into Fastify and the pool gauges into the registry, before the app listens. */
@Injectable()
class MetricsInstaller implements OnModuleInit {
  constructor(
    @Inject(Registry) private readonly registry: Registry,
    @Inject(HttpAdapterHost) private readonly adapterHost: HttpAdapterHost,
    @Inject(DataSource) private readonly dataSource: DataSource,
  ) {}

  onModuleInit(): void {
    new HttpMetrics(this.registry).install(this.adapterHost.httpAdapter.getInstance());
    registerPoolMetrics(this.registry, this.dataSource);
  }
}

/** The separate metrics port's server, when one is set: listening once the app has started, closed as it stops. */
@Injectable()
export class MetricsPort implements OnApplicationBootstrap, BeforeApplicationShutdown {
  readonly server: MetricsServer | null;

  constructor(@Inject(Registry) registry: Registry, @Inject(METRICS_SETTINGS) settings: MetricsSettings) {
    this.server = settings.port === null ? null : new MetricsServer(registry, settings.port, settings.host);
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.server?.listen();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.server?.close();
  }
}

/**
 * Prometheus metrics of one app instance: its own registry (injectable as prom-client's `Registry`), with the
 * process metrics, the request-latency histogram, the database pool gauges and database-outage counts; served
 * at GET /metrics on the app's port, or on `settings.port`. `interceptor` replaces the one that counts outages;
 * `null` registers none (the auth server counts outages, and its protocol outcomes, through `DatabaseOutageMetrics`
 * in its exception filters, without an interceptor's per-request cost).
 * Needs a TypeORM DataSource and the Fastify platform.
 */
@Module({})
export class MetricsModule {
  static forRoot(settings: MetricsSettings, options: { interceptor?: Type<NestInterceptor> | null; registry?: Registry } = {}): DynamicModule {
    const registry = options.registry ?? createMetricsRegistry();
    return {
      module: MetricsModule,
      global: true,
      controllers: settings.port === null ? [MetricsController] : [],
      providers: [
        { provide: Registry, useValue: registry },
        { provide: METRICS_SETTINGS, useValue: settings },
        { provide: DatabaseOutageMetrics, useValue: new DatabaseOutageMetrics(registry) },
        ...(options.interceptor === null ? [] : [{ provide: APP_INTERCEPTOR, useClass: options.interceptor ?? DatabaseOutageInterceptor }]),
        MetricsInstaller,
        MetricsPort,
      ],
      exports: [Registry, DatabaseOutageMetrics, MetricsPort],
    };
  }
}
