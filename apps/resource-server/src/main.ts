import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { ConfigError, loadResourceServerConfig } from '@tessera/config';
import { scrubCredentials, type Logger as PinoLogger } from '@tessera/logging';
import { createResourceServer, resourceServerLogging } from './bootstrap.js';

/** The process's logger, once the configuration that sets it up has been read. */
let logger: PinoLogger | undefined;

async function main(): Promise<void> {
  let config;
  try {
    config = loadResourceServerConfig();
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(`resource-server: ${e.message}`);
      process.exit(2);
    }
    throw e;
  }
  const logging = resourceServerLogging(config);
  logger = logging.logger;
  const app = await createResourceServer(config, logging);
  await app.listen(config.http.port, config.http.host);
  new Logger('resource-server').log(
    `listening on ${await app.getUrl()} as resource ${config.resource.url}, accepting tokens from ${config.issuer.url}`,
  );
}

main().catch((e: unknown) => {
  // A failure at boot (database unreachable after retries, a failing migration, a port in use).
  const message = `could not start: ${scrubCredentials(e instanceof Error ? e.message : String(e))}`;
  if (logger) logger.fatal(message);
  else console.error(`resource-server: ${message}`);
  process.exit(1);
});
