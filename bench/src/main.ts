// The app the TokenGuard benchmark loads: the same tiny handler with no guard and behind TokenGuard.
import 'reflect-metadata';
import { Controller, Get, Injectable, Module, UseGuards, type CanActivate } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { RequireScopes, TokenGuard, TokenGuardModule, VerifiedToken, type VerifiedAccessToken } from '@tessera/token-guard';

const env = JSON.parse(process.argv[2] ?? '{}') as { issuer: string; audience: string; clientId: string; clientSecret: string; port: number };

/** A guard that accepts everything: the cost of Nest's guard machinery alone, for comparison. */
@Injectable()
class AcceptAllGuard implements CanActivate {
  async canActivate(): Promise<boolean> {
    return true;
  }
}

@Controller()
class BenchController {
  @Get('plain')
  plain() {
    return { subject: 'anonymous' };
  }

  @Get('accept-all')
  @UseGuards(AcceptAllGuard)
  acceptAll() {
    return { subject: 'anonymous' };
  }

  @Get('guarded')
  @UseGuards(TokenGuard)
  @RequireScopes('bench')
  guarded(@VerifiedToken() token: VerifiedAccessToken) {
    return { subject: token.subject };
  }
}

@Module({
  imports: [
    TokenGuardModule.forRoot({
      issuer: env.issuer,
      audience: env.audience,
      introspection: { clientId: env.clientId, clientSecret: env.clientSecret },
    }),
  ],
  controllers: [BenchController],
})
class BenchModule {}

const app = await NestFactory.create<NestFastifyApplication>(BenchModule, new FastifyAdapter(), { logger: ['error'] });
app.enableShutdownHooks();
await app.listen(env.port, '127.0.0.1');
process.send?.({ type: 'ready' });
