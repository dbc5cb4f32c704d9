// What the pages need of HTTP: cookies (session, CSRF), and sending a page or a redirect with the right headers.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { parseCookie, stringifySetCookie, type SetCookie } from 'cookie';
import { FormParams, parseForm, RandomSource } from '@tessera/oauth-core';
import type { FastifyReply, FastifyRequest } from 'fastify';

const CSRF_SHAPE = /^[A-Za-z0-9_-]{43}$/;

/**
 * Pages are never framed (clickjacking), cached, or allowed to run script; their one stylesheet is ours.
 * Their URL (an authorization request) reaches no other site: `same-origin` rather than `no-referrer`,
 * under which browsers send `Origin: null` even on a form posted to the same origin (Fetch, "serializing
 * a request origin"), and `null` is what a forged post from a sandboxed frame sends.
 */
const PAGE_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  pragma: 'no-cache',
  'content-security-policy': "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; frame-ancestors 'none'",
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'same-origin',
};

export interface BrowserOptions {
  /** Cookies get `Secure` (and the `__Host-` prefix) when the issuer is https. */
  secure: boolean;
  sessionTtlSeconds: number;
  /** The issuer's origin: where browsers post from, whatever Host header a reverse proxy passes on. */
  origin: string;
}

/**
 * The session cookie (the sign-in session's token) and the CSRF cookie. Both
 * are HttpOnly and SameSite=Lax: a cross-site form post carries neither.
 *
 * The CSRF cookie holds a random value; every form carries a token derived
 * from it and from the session cookie: HMAC-SHA256 keyed by the session
 * token. A post is ours when its token matches the cookies it came with. Where
 * cookies can be planted by someone else (over http, without the `__Host-`
 * prefix: a sibling subdomain, a network attacker), a planted CSRF cookie is
 * no longer enough to forge a signed-in browser's form: the token needs the
 * session token, which no page shows and no script can read. Before sign-in
 * the token rests on the CSRF cookie alone; whoever can plant that cookie can
 * plant a session cookie too, so no key would add anything there.
 */
export class BrowserCookies {
  readonly sessionName: string;
  readonly csrfName: string;

  constructor(
    private readonly options: BrowserOptions,
    private readonly random: RandomSource,
  ) {
    const prefix = options.secure ? '__Host-' : '';
    this.sessionName = `${prefix}tessera_session`;
    this.csrfName = `${prefix}tessera_csrf`;
  }

  sessionToken(req: FastifyRequest): string | undefined {
    return this.read(req, this.sessionName);
  }

  setSession(reply: FastifyReply, token: string): void {
    this.set(reply, { name: this.sessionName, value: token, maxAge: this.options.sessionTtlSeconds });
  }

  clearSession(reply: FastifyReply): void {
    this.set(reply, { name: this.sessionName, value: '', maxAge: 0 });
  }

  /** The CSRF token a page's forms carry, for the browser's CSRF cookie (set now when it has none) and session cookie. */
  csrfToken(req: FastifyRequest, reply: FastifyReply): string {
    let cookie = this.read(req, this.csrfName);
    if (cookie === undefined || !CSRF_SHAPE.test(cookie)) {
      cookie = this.random.token(32);
      this.set(reply, { name: this.csrfName, value: cookie });
    }
    return this.tokenFor(cookie, this.sessionToken(req));
  }

  /**
   * A form post is ours when it carries the token of its cookies and, if the
   * browser says where it came from, it came from this origin: the issuer's,
   * or the host the request was sent to. `Origin: null` (a sandboxed frame, a
   * data: URL, a redirect from another origin) and another site, even a
   * sibling subdomain (`Sec-Fetch-Site: same-site`), are refused.
   */
  isSameOriginPost(req: FastifyRequest, submitted: string | undefined): boolean {
    const site = req.headers['sec-fetch-site'];
    if (site === 'cross-site' || site === 'same-site') return false;
    const origin = req.headers.origin;
    const fromHere = origin === undefined || origin === this.options.origin || (origin !== 'null' && URL.canParse(origin) && new URL(origin).host === req.headers.host);
    if (!fromHere) return false;
    const cookie = this.read(req, this.csrfName);
    if (cookie === undefined || submitted === undefined || !CSRF_SHAPE.test(cookie)) return false;
    const a = Buffer.from(this.tokenFor(cookie, this.sessionToken(req)));
    const b = Buffer.from(submitted);
    return a.length === b.length && timingSafeEqual(a, b);
  }

  /** base64url(HMAC-SHA256(key: the session cookie's value, or empty without one; data: the CSRF cookie's value)). */
  private tokenFor(csrfCookie: string, session: string | undefined): string {
    return createHmac('sha256', `tessera-csrf:${session ?? ''}`).update(csrfCookie).digest('base64url');
  }

  private read(req: FastifyRequest, name: string): string | undefined {
    const header = req.headers.cookie;
    return header ? parseCookie(header)[name] : undefined;
  }

  private set(reply: FastifyReply, cookie: SetCookie): void {
    // Fastify appends to Set-Cookie rather than replacing it.
    reply.header('set-cookie', stringifySetCookie({ path: '/', httpOnly: true, sameSite: 'lax', secure: this.options.secure, ...cookie }));
  }
}

export function sendPage(reply: FastifyReply, status: number, page: string, headers: Record<string, string> = {}): void {
  void reply.status(status).headers({ ...PAGE_HEADERS, ...headers }).send(page);
}

/** 302 for the authorization response to a GET (RFC 6749 §4.1.2), 303 after a form post. */
export function redirect(reply: FastifyReply, status: 302 | 303, location: string): void {
  void reply.status(status).headers({ location, 'cache-control': 'no-store', pragma: 'no-cache', 'referrer-policy': 'no-referrer' }).send();
}

/** The query string of a URL or path, without the `?`. */
export function rawQuery(url: string): string {
  const at = url.indexOf('?');
  return at < 0 ? '' : url.slice(at + 1);
}

/** A query string's parameters (no `?`), parsed as strictly as a form: broken encodings are an invalid_request. */
export function queryParams(query: string): FormParams {
  return FormParams.from(parseForm(query));
}
