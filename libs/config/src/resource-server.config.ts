import { ConfigError, EnvReader } from './env-reader.js';

export interface ResourceServerConfig {
  http: { host: string; port: number };
}

export function loadResourceServerConfig(env: Record<string, string | undefined> = process.env): ResourceServerConfig {
  const r = new EnvReader(env);
  const config = { http: { host: r.string('TESSERA_HOST') ?? '127.0.0.1', port: r.int('TESSERA_RESOURCE_PORT', 3001, 0, 65535) } };
  if (r.problems.length > 0) throw new ConfigError(r.problems);
  return config;
}
