import { loadAuthServerConfig } from './auth-server.config.js';
import { ConfigError } from './env-reader.js';
import { loadResourceServerConfig } from './resource-server.config.js';

const auth = { DATABASE_URL: 'postgres://u:p@127.0.0.1:5432/tessera', TESSERA_ALLOW_PLAINTEXT_KEYS: '1' };
const resource = { TESSERA_RESOURCE_DATABASE_URL: 'postgres://u:p@127.0.0.1:5432/notes' };

function problemsOf(load: () => unknown): string[] {
  try {
    load();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

describe('metrics settings', () => {
  it('serve /metrics on the app port by default', () => {
    expect(loadAuthServerConfig(auth).metrics).toEqual({ port: null, host: '127.0.0.1' });
    expect(loadResourceServerConfig(resource).metrics).toEqual({ port: null, host: '127.0.0.1' });
  });

  it('take a port of each app’s own, bound to TESSERA_METRICS_HOST, else TESSERA_HOST', () => {
    const env = { ...auth, ...resource, TESSERA_AUTH_METRICS_PORT: '9464', TESSERA_RESOURCE_METRICS_PORT: '9465', TESSERA_HOST: '0.0.0.0' };
    expect(loadAuthServerConfig(env).metrics).toEqual({ port: 9464, host: '0.0.0.0' });
    expect(loadResourceServerConfig(env).metrics).toEqual({ port: 9465, host: '0.0.0.0' });
    expect(loadAuthServerConfig({ ...env, TESSERA_METRICS_HOST: '10.0.0.5' }).metrics).toEqual({ port: 9464, host: '10.0.0.5' });
  });

  it('refuse a bad port, or the app’s own', () => {
    expect(problemsOf(() => loadAuthServerConfig({ ...auth, TESSERA_AUTH_METRICS_PORT: 'x' }))).toEqual([
      'TESSERA_AUTH_METRICS_PORT="x": must be a whole number from 1 to 65535',
    ]);
    expect(problemsOf(() => loadAuthServerConfig({ ...auth, TESSERA_AUTH_METRICS_PORT: '0' }))).toEqual([
      'TESSERA_AUTH_METRICS_PORT="0": must be a whole number from 1 to 65535',
    ]);
    expect(problemsOf(() => loadResourceServerConfig({ ...resource, TESSERA_RESOURCE_METRICS_PORT: '3001' }))).toEqual([
      "TESSERA_RESOURCE_METRICS_PORT: must differ from the app's own port (3001); leave it unset to serve /metrics there",
    ]);
  });
});
