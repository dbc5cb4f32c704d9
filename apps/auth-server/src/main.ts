import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { ConfigError, loadAuthServerConfig } from '@tessera/config';
import { scrubCredentials, type Logger as PinoLogger } from '@tessera/logging';
import { authServerLogging, createAuthServer } from './bootstrap.js';

/** The process's logger, once the configuration that sets it up has been read. */
let logger: PinoLogger | undefined;

async function main(): Promise<void> {
  let config;
  try {
    config = loadAuthServerConfig();
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(`auth-server: ${e.message}`);
      process.exit(2);
    }
    throw e;
  }
  const logging = authServerLogging(config);
  logger = logging.logger;
  const app = await createAuthServer(config, logging);
  await app.listen(config.http.port, config.http.host);
  new Logger('auth-server').log(`listening on ${await app.getUrl()} as issuer ${config.issuer.url}`);
}

main().catch((e: unknown) => {
  // A failure at boot (database unreachable after retries, a signing key that cannot be decrypted, a port in use).
  const message = `could not start: ${scrubCredentials(e instanceof Error ? e.message : String(e))}`;
  if (logger) logger.fatal(message);
  else console.error(`auth-server: ${message}`);
  process.exit(1);
});
