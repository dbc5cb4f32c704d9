import { Controller, Get, Inject, Post, Req, Res, UseFilters } from '@nestjs/common';
import { ClientRepository, FormParams, SignIn } from '@tessera/oauth-core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Form } from '../http/form.decorator.js';
import { CACHED_CLIENTS } from '../oauth/oauth.tokens.js';
import { BrowserCookies, queryParams, rawQuery, redirect, sendPage } from './browser.js';
import { isReturnTo } from './interaction.tokens.js';
import { PageExceptionFilter } from './page-exception.filter.js';
import { EXPIRED_FORM, signedInPage, signInPage } from './pages.js';

/** The sign-in page. Every refusal reads the same, whether the username exists or not. */
@Controller()
@UseFilters(PageExceptionFilter)
export class SignInController {
  constructor(
    private readonly signIn: SignIn,
    private readonly cookies: BrowserCookies,
    @Inject(CACHED_CLIENTS) private readonly clients: ClientRepository,
  ) {}

  @Get('login')
  async page(@Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const returnTo = queryParams(rawQuery(req.url)).get('return_to');
    const valid = isReturnTo(returnTo) ? returnTo : undefined;
    const current = await this.signIn.current(this.cookies.sessionToken(req));
    if (current && valid) return redirect(reply, 303, valid);
    const csrf = this.cookies.csrfToken(req, reply);
    sendPage(reply, 200, current ? signedInPage(current.user, csrf) : signInPage({ csrf, returnTo: valid, clientName: await this.clientName(valid) }));
  }

  @Post('login')
  async submit(@Req() req: FastifyRequest, @Res() reply: FastifyReply, @Form() form: FormParams): Promise<void> {
    const returnTo = isReturnTo(form.get('return_to')) ? form.get('return_to') : undefined;
    const username = form.get('username') ?? '';
    const clientName = await this.clientName(returnTo);
    const again = (status: number, error: string, headers: Record<string, string> = {}) =>
      sendPage(reply, status, signInPage({ csrf: this.cookies.csrfToken(req, reply), returnTo, clientName, username, error }), headers);

    if (!this.cookies.isSameOriginPost(req, form.get('csrf'))) return again(403, EXPIRED_FORM);
    const password = form.get('password');
    if (!username || password === undefined) return again(400, 'Enter your username and password.');

    const result = await this.signIn.signIn(username, password, req.ip);
    if (result.kind === 'throttled') {
      const minutes = Math.ceil(result.retryAfterSeconds / 60);
      return again(429, `Too many failed sign-in attempts. Try again in ${minutes} minute${minutes === 1 ? '' : 's'}.`, {
        'retry-after': String(result.retryAfterSeconds),
      });
    }
    if (result.kind === 'refused') return again(401, 'Incorrect username or password.');
    // A new session at every sign-in (no fixation); the one this browser had, if any, ends.
    await this.signIn.signOut(this.cookies.sessionToken(req));
    this.cookies.setSession(reply, result.token);
    redirect(reply, 303, returnTo ?? '/login');
  }

  @Post('logout')
  async signOut(@Req() req: FastifyRequest, @Res() reply: FastifyReply, @Form() form: FormParams): Promise<void> {
    if (!this.cookies.isSameOriginPost(req, form.get('csrf'))) return redirect(reply, 303, '/login');
    await this.signIn.signOut(this.cookies.sessionToken(req));
    this.cookies.clearSession(reply);
    const returnTo = form.get('return_to');
    redirect(reply, 303, isReturnTo(returnTo) ? returnTo : '/login');
  }

  /** The name of the client whose authorization request the sign-in continues, if it names a known one. */
  private async clientName(returnTo: string | undefined): Promise<string | undefined> {
    if (returnTo === undefined) return undefined;
    let clientId: string | undefined;
    try {
      clientId = queryParams(rawQuery(returnTo)).get('client_id');
    } catch {
      return undefined; // the authorization endpoint will say what is wrong with the request
    }
    const client = clientId === undefined ? null : await this.clients.findById(clientId);
    return client && !client.disabledAt ? (client.clientName ?? undefined) : undefined;
  }
}
