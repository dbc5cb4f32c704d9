import { Controller, Get, Header, Inject, Optional, Res } from '@nestjs/common';
import { acceptedAuthMethods, IntrospectionEndpoint, RevocationEndpoint } from '@tessera/oauth-core';
import type { AuthServer } from '@tessera/server';
import type { FastifyReply } from 'fastify';
import { BrowserCookies } from '../interaction/browser.js';
import { AUTH_SERVER } from '../oauth/oauth.tokens.js';
import { DOCS_HEADERS, DOCS_STYLESHEET, docsPage } from './docs.page.js';
import { openApiDocument, OPENAPI_PATHS } from './openapi.document.js';
import type { OpenApiDocument } from './openapi.types.js';

/** Tessera's version, as package.json has it (test/openapi.int-spec.ts checks that they agree). */
export const TESSERA_VERSION = '0.1.0';

/** The description of what this server has enabled, from the server composeAuthServer built. */
export function describeAuthServer(server: AuthServer, sessionCookie = 'tessera_session'): OpenApiDocument {
  return openApiDocument({
    issuer: server.config.issuer.url,
    version: TESSERA_VERSION,
    grants: server.grants,
    registration: server.registration !== null,
    authorization: server.authorization !== null,
    clientAuthMethods: {
      token: acceptedAuthMethods(server.token.clientAuth),
      introspection: acceptedAuthMethods(IntrospectionEndpoint.clientAuth),
      revocation: acceptedAuthMethods(RevocationEndpoint.clientAuth),
    },
    sessionCookie,
    rateLimited: server.rateLimits !== null,
    metrics: server.config.metrics.port === null,
  });
}

/** The OpenAPI 3.1 description at /openapi.json, and the same as a page at /docs. Both are built once. */
@Controller()
export class OpenApiController {
  private readonly document: OpenApiDocument;
  private readonly json: string;
  private readonly page: string;

  constructor(@Inject(AUTH_SERVER) server: AuthServer, @Optional() cookies?: BrowserCookies) {
    this.document = describeAuthServer(server, cookies?.sessionName);
    this.json = JSON.stringify(this.document);
    this.page = docsPage(this.document);
  }

  @Get(OPENAPI_PATHS.document)
  @Header('Content-Type', 'application/json; charset=utf-8')
  @Header('Cache-Control', 'no-cache')
  @Header('X-Content-Type-Options', 'nosniff')
  openApi(): string {
    return this.json;
  }

  @Get(OPENAPI_PATHS.docs)
  docs(@Res() reply: FastifyReply): void {
    void reply.status(200).headers(DOCS_HEADERS).send(this.page);
  }

  @Get(OPENAPI_PATHS.docsStylesheet)
  @Header('Content-Type', 'text/css; charset=utf-8')
  @Header('Cache-Control', 'public, max-age=3600')
  @Header('X-Content-Type-Options', 'nosniff')
  stylesheet(): string {
    return DOCS_STYLESHEET;
  }
}
