import type { EnvReader } from './env-reader.js';

export interface MetricsConfig {
  /** A port of its own for GET /metrics; null (the default): /metrics is served on the app's port. */
  port: number | null;
  /** The address the metrics port is bound to: TESSERA_METRICS_HOST, else the app's (TESSERA_HOST). */
  host: string;
}

/** `portVariable` (the app's own: both apps may share one environment) and TESSERA_METRICS_HOST. */
export function metricsConfig(r: EnvReader, portVariable: string, appPort: number): MetricsConfig {
  const port = r.string(portVariable) === undefined ? null : r.int(portVariable, 0, 1, 65535);
  if (port !== null && port === appPort) r.problems.push(`${portVariable}: must differ from the app's own port (${appPort}); leave it unset to serve /metrics there`);
  return { port, host: r.string('TESSERA_METRICS_HOST') ?? r.string('TESSERA_HOST') ?? '127.0.0.1' };
}
