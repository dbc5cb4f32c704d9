// The app the benchmarks load: the same tiny handler (with the same @VerifiedToken() parameter) with no
// guard, behind a guard that accepts everything, and behind TokenGuard.
// Its one argument is JSON: { issuer, audience, clientId, clientSecret, port } and, optionally,
// authorizationServerUrl (where TokenGuard reaches the auth server, when not at the issuer) and
// feed (true/false: TokenGuard's revocationFeed.enabled; absent: TokenGuard's default).
import 'reflect-metadata';
import { Controller, Get, Injectable, Module, ServiceUnavailableException, UseGuards, type CanActivate } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { RequireScopes, TokenGuard, TokenGuardModule, TokenGuardStatus, VerifiedToken, type VerifiedAccessToken } from '@tessera/token-guard';

const env = JSON.parse(process.argv[2] ?? '{}') as {
  issuer: string;
  audience: string;
  clientId: string;
  clientSecret: string;
  port: number;
  authorizationServerUrl?: string;
  feed?: boolean;
};

/** A guard that accepts everything: the cost of Nest's guard machinery alone, for comparison. */
@Injectable()
class AcceptAllGuard implements CanActivate {
  async canActivate(): Promise<boolean> {
    return true;
  }
}

@Controller()
class BenchController {
  constructor(private readonly tokenGuard: TokenGuardStatus) {}

  /** 200 once TokenGuard is ready (with the feed on: caught up and fresh), else 503; the body says how the feed is doing. */
  @Get('ready')
  ready() {
    const status = { ready: this.tokenGuard.ready(), revocationFeed: this.tokenGuard.revocationFeed() };
    if (!status.ready) throw new ServiceUnavailableException(status);
    return status;
  }

  // All three handlers take the same parameter, so that the ratios measure the guard, not Nest's parameter handling.
  @Get('plain')
  plain(@VerifiedToken() token: VerifiedAccessToken | undefined) {
    return { subject: token?.subject ?? 'anonymous' };
  }

  @Get('accept-all')
  @UseGuards(AcceptAllGuard)
  acceptAll(@VerifiedToken() token: VerifiedAccessToken | undefined) {
    return { subject: token?.subject ?? 'anonymous' };
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
      ...(env.authorizationServerUrl === undefined ? {} : { authorizationServerUrl: env.authorizationServerUrl }),
      ...(env.feed === undefined ? {} : { revocationFeed: { enabled: env.feed } }),
    }),
  ],
  controllers: [BenchController],
})
class BenchModule {}

const app = await NestFactory.create<NestFastifyApplication>(BenchModule, new FastifyAdapter(), { logger: ['error'] });
app.enableShutdownHooks();
await app.listen(env.port, '127.0.0.1');
process.send?.({ type: 'ready' });
