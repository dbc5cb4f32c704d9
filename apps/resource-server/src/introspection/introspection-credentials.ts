import { Logger, type OnModuleDestroy } from '@nestjs/common';
import { AuthorizationServerError, type AuthorizationServerClient, type ClientCredentials } from './authorization-server.client.js';
import type { RegisteredClientStore } from './registered-client.store.js';

export interface IntrospectionCredentialsOptions {
  issuer: string;
  /** From the environment: used as given, never registered or stored. */
  configured: ClientCredentials | null;
  /** Lets the server register itself (RFC 7591) when nothing is configured. */
  initialAccessToken: string | null;
}

/** How long to wait after the n-th failure in a row: 1 s, 2 s, 4 s, … up to 30 s. */
export function retryDelayMs(failures: number): number {
  return Math.min(1000 * 2 ** Math.max(0, failures - 1), 30_000);
}

/**
 * The client credentials TokenGuard introspects opaque tokens with.
 *
 * - Configured ones (TESSERA_RESOURCE_CLIENT_ID/SECRET) are used as they are.
 * - Otherwise, with an initial access token, the server registers itself at the
 *   issuer on first start and stores the credentials in its own database
 *   (`registered_clients`); later starts reuse them once the issuer confirms it
 *   still knows the client, and register again when it does not (its database
 *   was reset). This runs in the background, retrying with backoff, so the
 *   server starts and serves JWTs even while the auth server is not up yet.
 * - Otherwise there are none: JWTs work, opaque tokens are refused.
 */
export class IntrospectionCredentials implements OnModuleDestroy {
  private current: ClientCredentials | null;
  private readonly stopping = new AbortController();
  private readonly logger = new Logger('Introspection');
  private settle!: (credentials: ClientCredentials | null) => void;
  /** Resolves once the credentials are known to work (or there are none to get). */
  readonly settled = new Promise<ClientCredentials | null>((resolve) => (this.settle = resolve));
  private running: Promise<void> = Promise.resolve();

  constructor(
    private readonly options: IntrospectionCredentialsOptions,
    private readonly store: RegisteredClientStore,
    private readonly authorizationServer: AuthorizationServerClient,
    private readonly sleep: (ms: number, signal: AbortSignal) => Promise<void> = abortableSleep,
  ) {
    this.current = options.configured;
  }

  /** The credentials to introspect with right now, if any. */
  get(): ClientCredentials | null {
    return this.current;
  }

  /** Whether there is any way to get credentials; when false, opaque tokens cannot be accepted. */
  get enabled(): boolean {
    return this.options.configured !== null || this.options.initialAccessToken !== null;
  }

  /** Starts getting the credentials in the background; resolves at once. */
  start(): void {
    const { configured, initialAccessToken, issuer } = this.options;
    if (configured) {
      this.logger.log(`introspecting opaque tokens as client ${configured.clientId} (TESSERA_RESOURCE_CLIENT_ID)`);
      this.settle(configured);
    } else if (initialAccessToken) {
      this.running = this.obtain(initialAccessToken).catch((e: unknown) => {
        if (!this.stopping.signal.aborted) this.logger.error(`getting introspection credentials failed: ${e instanceof Error ? e.stack : String(e)}`);
      });
    } else {
      this.logger.warn(
        `no introspection credentials: opaque access tokens will be refused (401); JWTs from ${issuer} work. ` +
          'Set TESSERA_RESOURCE_CLIENT_ID and TESSERA_RESOURCE_CLIENT_SECRET, or TESSERA_INITIAL_ACCESS_TOKEN to let this server register itself.',
      );
      this.settle(null);
    }
  }

  async onModuleDestroy(): Promise<void> {
    this.stopping.abort();
    await this.running;
  }

  private async obtain(initialAccessToken: string): Promise<void> {
    const { issuer } = this.options;
    const signal = this.stopping.signal;
    let stored: ClientCredentials | null | undefined;
    let failures = 0;
    while (!signal.aborted) {
      try {
        stored ??= await this.store.find(issuer);
        if (stored) {
          // Optimistic: use it while the issuer is asked whether it still knows it.
          this.current = stored;
          if (await this.authorizationServer.accepts(stored, signal)) {
            this.logger.log(`introspecting opaque tokens as client ${stored.clientId}, registered earlier at ${issuer}`);
            return this.settle(stored);
          }
          this.logger.warn(
            `${issuer} no longer accepts client ${stored.clientId} as a resource server (its database was reset, or it was registered before the role existed); registering again`,
          );
          this.current = null;
        }
        const registered = await this.authorizationServer.register(initialAccessToken, signal);
        const kept = await this.store.save(issuer, registered, stored?.clientId ?? null);
        if (kept.clientId !== registered.clientId) {
          // Another instance on the same database registered first: use its client (ours stays unused).
          this.logger.warn(`another instance registered client ${kept.clientId} first; using it`);
        } else {
          this.logger.log(`registered at ${issuer} as client ${kept.clientId}; introspecting opaque tokens with it`);
        }
        this.current = kept;
        return this.settle(kept);
      } catch (e) {
        if (signal.aborted) return;
        failures += 1;
        const delay = retryDelayMs(failures);
        const message = e instanceof AuthorizationServerError ? e.message : `its database: ${e instanceof Error ? e.message : String(e)}`;
        const meanwhile = this.current ? `using client ${this.current.clientId} meanwhile` : 'opaque tokens are refused until then';
        const line = `cannot get introspection credentials yet (${message}); ${meanwhile}; retrying in ${delay / 1000} s`;
        // Started beside the auth server, the first attempt often finds it still booting: no need to alarm anyone yet.
        const expected = failures <= 2 && e instanceof AuthorizationServerError && !e.permanent;
        if (expected) this.logger.log(line);
        else this.logger.warn(line);
        if (stored && !(e instanceof AuthorizationServerError)) stored = undefined; // read it again
        await this.sleep(delay, signal);
      }
    }
  }
}

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}
