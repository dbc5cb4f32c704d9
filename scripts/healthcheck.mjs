// The image's HEALTHCHECK (no curl in the slim image): GET /health/ready of whichever app this container
// runs, the auth server (TESSERA_AUTH_PORT, else PORT, else 3000) or the resource server
// (TESSERA_RESOURCE_PORT, else 3001). Exit 0 when it answers 200, 1 otherwise. A container running
// neither (the CLI, the init service) has nothing to check: 0.
import { readdirSync, readFileSync } from 'node:fs';

/** The app a command line runs, found by its entry point, dist/apps/<app>/...: the first one among `cmdlines`. */
export function appOf(cmdlines) {
  for (const cmdline of cmdlines) {
    const match = /dist\/apps\/(auth-server|resource-server)\//.exec(cmdline);
    if (match) return match[1];
  }
  return null;
}

/** Where the app answers its readiness check, from the container's own settings. */
export function readyUrl(app, env) {
  const port = app === 'auth-server' ? env.TESSERA_AUTH_PORT || env.PORT || '3000' : env.TESSERA_RESOURCE_PORT || '3001';
  const host = env.TESSERA_HOST && !['0.0.0.0', '::'].includes(env.TESSERA_HOST) ? env.TESSERA_HOST : '127.0.0.1';
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}/health/ready`;
}

/** 0 when `url` answers 200, else 1 (saying why). */
export async function check(url, say = console.log) {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(4000) });
    if (!response.ok) say(`${url} answered ${response.status}`);
    return response.ok ? 0 : 1;
  } catch (e) {
    say(`${url}: ${e?.cause?.code ?? e?.message ?? e}`);
    return 1;
  }
}

/** PID 1 first (the app itself, exec'd by the entrypoint), then every other process of the container. */
function cmdlines() {
  const pids = ['1', ...readdirSync('/proc').filter((p) => /^\d+$/.test(p) && p !== '1')];
  return pids.flatMap((pid) => {
    try {
      return [readFileSync(`/proc/${pid}/cmdline`, 'utf8')];
    } catch {
      return []; // gone meanwhile
    }
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const app = appOf(cmdlines());
  process.exit(app ? await check(readyUrl(app, process.env)) : 0);
}
