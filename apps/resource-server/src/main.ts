// Placeholder resource server: only GET /health/live, so `npm start` and
// docker-compose run both apps. A later issue replaces it with the real one
// (TokenGuardModule, protected routes).
import 'reflect-metadata';
import { Controller, Get, Header, Logger, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { ConfigError, loadResourceServerConfig } from '@tessera/config';

@Controller('health')
class HealthController {
  @Get('live')
  @Header('Cache-Control', 'no-store')
  live() {
    return { status: 'ok' };
  }
}

@Module({ controllers: [HealthController] })
class ResourceServerModule {}

async function main(): Promise<void> {
  let settings;
  try {
    settings = loadResourceServerConfig().http;
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(`resource-server: ${e.message}`);
      process.exit(2);
    }
    throw e;
  }
  const app = await NestFactory.create<NestFastifyApplication>(ResourceServerModule, new FastifyAdapter());
  app.enableShutdownHooks();
  await app.listen(settings.port, settings.host);
  new Logger('resource-server').log(`listening on ${await app.getUrl()} (placeholder: GET /health/live only)`);
}

void main();
