import { Controller, Get, Inject, Post, Req, Res, UseFilters } from '@nestjs/common';
import { AuthorizationEndpoint, FormParams, SignIn, type AuthorizationOutcome, type User } from '@tessera/oauth-core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Form } from '../http/form.decorator.js';
import { BrowserCookies, queryParams, rawQuery, redirect, sendPage } from './browser.js';
import { PAGES_CONFIG, signInLocation, type PagesConfig } from './interaction.tokens.js';
import { PageExceptionFilter } from './page-exception.filter.js';
import { consentPage, errorPage, EXPIRED_FORM } from './pages.js';

/** RFC 6749 §3.1 / §4.1.1: the authorization endpoint, and the consent page's answer. */
@Controller()
@UseFilters(PageExceptionFilter)
export class AuthorizeController {
  constructor(
    private readonly endpoint: AuthorizationEndpoint,
    private readonly signIn: SignIn,
    private readonly cookies: BrowserCookies,
    @Inject(PAGES_CONFIG) private readonly config: PagesConfig,
  ) {}

  @Get('oauth2/authorize')
  async authorize(@Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const query = rawQuery(req.url);
    const current = await this.signIn.current(this.cookies.sessionToken(req));
    const outcome = await this.endpoint.authorize(queryParams(query), current?.user ?? null);
    this.respond(req, reply, outcome, query, current?.user, 302);
  }

  @Post('oauth2/authorize/decision')
  async decide(@Req() req: FastifyRequest, @Res() reply: FastifyReply, @Form() form: FormParams): Promise<void> {
    const query = form.get('request') ?? '';
    if (!this.cookies.isSameOriginPost(req, form.get('csrf'))) return sendPage(reply, 403, errorPage('Please try again', EXPIRED_FORM));
    const current = await this.signIn.current(this.cookies.sessionToken(req));
    // Signed out meanwhile (expired, or signed out in another tab): sign in again, then decide again.
    if (!current) return redirect(reply, 303, signInLocation(query));
    const decision = form.get('decision');
    if (decision !== 'allow' && decision !== 'deny') return sendPage(reply, 400, errorPage('Please try again', 'Choose Allow or Deny.'));
    const outcome = await this.endpoint.decide(queryParams(query), current.user, {
      allow: decision === 'allow',
      remember: form.get('remember') === 'yes',
    });
    this.respond(req, reply, outcome, query, current.user, 303);
  }

  private respond(req: FastifyRequest, reply: FastifyReply, outcome: AuthorizationOutcome, query: string, user: User | undefined, status: 302 | 303): void {
    switch (outcome.kind) {
      case 'show-error':
        return sendPage(reply, 400, errorPage("This request can't be completed", UNTRUSTED_REQUEST, outcome.error.description));
      case 'redirect':
        return redirect(reply, status, outcome.location);
      case 'sign-in':
        return redirect(reply, 303, signInLocation(query));
      case 'consent':
        return sendPage(
          reply,
          200,
          consentPage({
            csrf: this.cookies.csrfToken(req, reply),
            query,
            request: outcome.request,
            user: user!,
            scopeDescriptions: this.config.scopeDescriptions,
            issuer: this.config.issuer,
          }),
        );
    }
  }
}

const UNTRUSTED_REQUEST = 'The application that sent you here is not known, or asked to send you back to an address it has not registered. You have not been signed in or sent anywhere.';
