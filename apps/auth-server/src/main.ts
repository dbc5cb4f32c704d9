import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { ConfigError, loadAuthServerConfig } from '@tessera/config';
import { createAuthServer } from './bootstrap.js';

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
  const app = await createAuthServer(config);
  await app.listen(config.http.port, config.http.host);
  new Logger('auth-server').log(`listening on ${await app.getUrl()} as issuer ${config.issuer.url}`);
}

main().catch((e: unknown) => {
  // A failure at boot (database unreachable after retries, a signing key that cannot be decrypted, a port in use).
  console.error(`auth-server: could not start: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
