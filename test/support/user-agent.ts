// A browser without the browser: fetch with manual redirects and a cookie jar, enough to walk the
// authorization server's login and consent pages as a person would, for tests that need no Chromium.
//
//   const ua = new UserAgent(server.url);
//   expectPage(await ua.open(authorizationUrl), 200);          // the login page
//   expectPage(await ua.signIn('alice', 'correct horse'), 200); // the consent page
//   const callback = expectCallback(await ua.consent('allow')); // redirect_uri?code=…&state=…&iss=…

/** An HTML page the auth server answered (any status that is not a redirect). */
export interface Page {
  url: URL;
  status: number;
  headers: Headers;
  html: string;
}

/** Where a walk on the auth server stopped: on one of its pages, or at a redirect away from it (to the client). */
export type Step = { kind: 'page'; page: Page } | { kind: 'callback'; url: URL; status: number };

export interface Cookie {
  name: string;
  value: string;
  path: string;
  expires?: number;
  httpOnly: boolean;
  secure: boolean;
  sameSite?: string;
}

/** Cookies of one origin (the auth server's): parsed from Set-Cookie, sent back as Cookie when the path matches. */
export class CookieJar {
  private readonly cookies = new Map<string, Cookie>();

  /** The cookie as last set, with its attributes, or undefined. */
  get(name: string): Cookie | undefined {
    const cookie = this.cookies.get(name);
    return cookie && !expired(cookie) ? cookie : undefined;
  }

  store(response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      const cookie = parseSetCookie(line);
      if (!cookie) continue;
      if (expired(cookie)) this.cookies.delete(cookie.name);
      else this.cookies.set(cookie.name, cookie);
    }
  }

  header(url: URL): string | undefined {
    const sent = [...this.cookies.values()].filter((c) => !expired(c) && pathMatches(url.pathname, c.path));
    return sent.length > 0 ? sent.map((c) => `${c.name}=${c.value}`).join('; ') : undefined;
  }

  clear(): void {
    this.cookies.clear();
  }
}

export class UserAgent {
  readonly cookies = new CookieJar();
  /** The last auth-server page seen: `signIn` and `consent` submit its form. */
  page?: Page;
  private readonly origin: string;

  constructor(serverUrl: string) {
    this.origin = new URL(serverUrl).origin;
  }

  /** One request to the auth server with the jar's cookies, redirects not followed. */
  async fetch(url: string | URL, init: RequestInit = {}): Promise<Response> {
    const target = new URL(url, this.origin);
    if (target.origin !== this.origin) throw new Error(`the user agent only talks to ${this.origin}, not ${target.origin}`);
    const headers = new Headers(init.headers);
    const cookie = this.cookies.header(target);
    if (cookie) headers.set('cookie', cookie);
    const response = await fetch(target, { ...init, headers, redirect: 'manual' });
    this.cookies.store(response);
    return response;
  }

  /** GET `url`, then follow redirects on the auth server until a page, or a redirect that leaves it (to the client). */
  async open(url: string | URL): Promise<Step> {
    return this.follow(await this.fetch(url), new URL(url, this.origin));
  }

  /** POST an urlencoded form (as a browser submits one), then follow like `open`. */
  async submit(action: string | URL, fields: Record<string, string> | URLSearchParams): Promise<Step> {
    const target = new URL(action, this.origin);
    const response = await this.fetch(target, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields).toString(),
    });
    return this.follow(response, target);
  }

  /** Fills and submits the login form of the current page (opening `/login` when there is none). */
  async signIn(username: string, password: string): Promise<Step> {
    if (!this.page || !findForm(this.page.html, '/login')) await this.open('/login');
    const hidden = formFields(this.page!.html, '/login');
    return this.submit('/login', { ...hidden, username, password });
  }

  /** Answers the consent form of the current page: the Allow or Deny button, with "remember" ticked or not. */
  async consent(decision: 'allow' | 'deny', options: { remember?: boolean } = {}): Promise<Step> {
    const action = '/oauth2/authorize/decision';
    if (!this.page || !findForm(this.page.html, action)) throw new Error(`no consent form on the current page (${describe(this.page)})`);
    const fields = new URLSearchParams(formFields(this.page.html, action));
    if (options.remember ?? true) fields.set('remember', 'yes');
    fields.set('decision', decision);
    return this.submit(action, fields);
  }

  private async follow(response: Response, url: URL): Promise<Step> {
    for (let hops = 0; hops < 10; hops++) {
      const location = response.headers.get('location');
      if (response.status < 300 || response.status >= 400 || location === null) {
        this.page = { url, status: response.status, headers: response.headers, html: await response.text() };
        return { kind: 'page', page: this.page };
      }
      await response.body?.cancel();
      const next = new URL(location, url);
      if (next.origin !== this.origin) return { kind: 'callback', url: next, status: response.status };
      url = next;
      response = await this.fetch(next);
    }
    throw new Error(`more than 10 redirects, the last to ${url.href}`);
  }
}

/** The page a step stopped on, failing with what happened instead (and, given `status`, when it differs). */
export function expectPage(step: Step, status?: number): Page {
  if (step.kind !== 'page') throw new Error(`expected a page, got a ${step.status} redirect to ${step.url.href}`);
  if (status !== undefined && step.page.status !== status) throw new Error(`expected a ${status} page, got ${describe(step.page)}`);
  return step.page;
}

/** The URL a step was redirected to, away from the auth server (the client's redirect_uri with its parameters). */
export function expectCallback(step: Step): URL {
  if (step.kind !== 'callback') throw new Error(`expected a redirect to the client, got ${describe(step.page)}`);
  return step.url;
}

function describe(page: Page | undefined): string {
  if (!page) return 'no page yet';
  const text = page.html.replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim();
  return `${page.status} at ${page.url.pathname}: ${text.slice(0, 300)}`;
}

// --- reading HTML, just enough for server-rendered forms ---------------------------------------

/** The inner HTML of the first `<form>` whose action is `action`, or undefined. */
export function findForm(html: string, action: string): string | undefined {
  for (const m of html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/gi)) {
    if (attributes(m[1]).action === action) return m[2];
  }
  return undefined;
}

/** The hidden inputs (name → value) of the form posting to `action`, or of the whole page without one. */
export function formFields(html: string, action?: string): Record<string, string> {
  const scope = action === undefined ? html : findForm(html, action);
  if (scope === undefined) throw new Error(`no form with action="${action}"`);
  const fields: Record<string, string> = {};
  for (const input of inputs(scope)) {
    if (input.type?.toLowerCase() === 'hidden' && input.name !== undefined) fields[input.name] = input.value ?? '';
  }
  return fields;
}

/** The attributes of every `<input>` in `html`. */
export function inputs(html: string): Record<string, string | undefined>[] {
  return [...html.matchAll(/<input\b([^>]*)>/gi)].map((m) => attributes(m[1]));
}

/** The attributes of every `<button>` in `html`, with its text as `text`. */
export function buttons(html: string): Record<string, string | undefined>[] {
  return [...html.matchAll(/<button\b([^>]*)>([\s\S]*?)<\/button>/gi)].map((m) => ({ ...attributes(m[1]), text: textOf(m[2]) }));
}

/** The visible text of an HTML fragment: tags dropped, entities decoded, whitespace collapsed. */
export function textOf(html: string): string {
  return decodeEntities(html.replace(/<(script|style)\b[\s\S]*?<\/\1>/gi, ' ').replace(/<[^>]*>/g, ' ')).replace(/\s+/g, ' ').trim();
}

/** Attribute name (lower case) → decoded value; a bare attribute (`checked`) maps to ''. */
export function attributes(tag: string): Record<string, string | undefined> {
  const result: Record<string, string | undefined> = {};
  for (const m of tag.matchAll(/([^\s"'<>\/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?/g)) {
    result[m[1].toLowerCase()] = decodeEntities(m[2] ?? m[3] ?? m[4] ?? '');
  }
  return result;
}

const NAMED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0' };

export function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, entity: string) => {
    if (entity[0] === '#') {
      const code = entity[1] === 'x' || entity[1] === 'X' ? parseInt(entity.slice(2), 16) : parseInt(entity.slice(1), 10);
      return String.fromCodePoint(code);
    }
    return NAMED[entity.toLowerCase()] ?? whole;
  });
}

// --- cookies (RFC 6265 §5.2, the parts a test needs) -------------------------------------------

function parseSetCookie(line: string): Cookie | undefined {
  const [pair, ...attrs] = line.split(';');
  const eq = pair.indexOf('=');
  if (eq <= 0) return undefined;
  const cookie: Cookie = { name: pair.slice(0, eq).trim(), value: pair.slice(eq + 1).trim(), path: '/', httpOnly: false, secure: false };
  for (const attr of attrs) {
    const [rawKey, ...rest] = attr.split('=');
    const key = rawKey.trim().toLowerCase();
    const value = rest.join('=').trim();
    if (key === 'path' && value.startsWith('/')) cookie.path = value;
    else if (key === 'max-age') cookie.expires = Date.now() + Number(value) * 1000;
    else if (key === 'expires' && cookie.expires === undefined) cookie.expires = Date.parse(value);
    else if (key === 'httponly') cookie.httpOnly = true;
    else if (key === 'secure') cookie.secure = true;
    else if (key === 'samesite') cookie.sameSite = value;
  }
  return cookie;
}

function expired(cookie: Cookie): boolean {
  return cookie.expires !== undefined && cookie.expires <= Date.now();
}

function pathMatches(requestPath: string, cookiePath: string): boolean {
  if (requestPath === cookiePath) return true;
  if (!requestPath.startsWith(cookiePath)) return false;
  return cookiePath.endsWith('/') || requestPath[cookiePath.length] === '/';
}
