import { Controller, Get, Module, UseGuards, type INestApplication } from '@nestjs/common';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { RequireScopes, TokenGuard, TokenGuardModule, VerifiedToken, type TokenGuardOptions, type VerifiedAccessToken } from '@tessera/token-guard';

export const AUDIENCE = 'https://api.test.example';
export type Platform = 'fastify' | 'express';

@Controller('reports')
@UseGuards(TokenGuard)
@RequireScopes('read')
class ReportsController {
  @Get()
  list(@VerifiedToken() token: VerifiedAccessToken) {
    return token;
  }

  @Get('admin')
  @RequireScopes('admin')
  admin(@VerifiedToken() token: VerifiedAccessToken) {
    return token;
  }
}

const SETTINGS = Symbol('SETTINGS');

/** Stands in for a resource team's own config module, to exercise forRootAsync's imports and inject. */
@Module({})
class SettingsModule {
  static of(options: TokenGuardOptions) {
    return { module: SettingsModule, providers: [{ provide: SETTINGS, useValue: options }], exports: [SETTINGS] };
  }
}

export interface RunningResourceApp {
  url: string;
  close(): Promise<void>;
}

/** A tiny resource server: one guarded controller, on Fastify or Express, over real HTTP. */
export async function startResourceApp(platform: Platform, options: TokenGuardOptions, { async = false } = {}): Promise<RunningResourceApp> {
  const tokenGuard = async
    ? TokenGuardModule.forRootAsync({
        imports: [SettingsModule.of(options)],
        inject: [SETTINGS],
        useFactory: async (settings: TokenGuardOptions) => settings,
      })
    : TokenGuardModule.forRoot(options);
  const moduleRef = await Test.createTestingModule({ imports: [tokenGuard], controllers: [ReportsController] }).compile();
  const adapter = platform === 'fastify' ? new FastifyAdapter() : new ExpressAdapter();
  const app: INestApplication = moduleRef.createNestApplication(adapter, { logger: ['error'] });
  await app.listen(0, '127.0.0.1');
  return { url: await app.getUrl(), close: () => app.close() };
}
