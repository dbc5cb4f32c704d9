import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { ConfigError, loadResourceServerConfig } from '@tessera/config';
import { createResourceServer } from './bootstrap.js';

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
  const app = await createResourceServer(config);
  await app.listen(config.http.port, config.http.host);
  new Logger('resource-server').log(
    `listening on ${await app.getUrl()} as resource ${config.resource.url}, accepting tokens from ${config.issuer.url}`,
  );
}

main().catch((e: unknown) => {
  // A failure at boot (database unreachable after retries, a failing migration, a port in use).
  console.error(`resource-server: could not start: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
