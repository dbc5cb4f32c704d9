// The server-rendered pages a person sees at the authorization server: sign-in, consent, errors.
import type { AuthorizationRequest, User } from '@tessera/oauth-core';
import { html, type SafeHtml } from './html.js';

export const EXPIRED_FORM = 'This form has expired or was sent from another site. Go back, reload the page and try again.';

export const ASSET_PATHS = { stylesheet: '/assets/tessera.css' } as const;

function layout(title: string, body: SafeHtml): string {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin">
<title>${title} · Tessera</title>
<link rel="stylesheet" href="${ASSET_PATHS.stylesheet}">
</head>
<body>
<div class="brand"><span></span>Tessera</div>
<main class="card">
${body}
</main>
</body>
</html>
`.value;
}

export interface SignInPageModel {
  csrf: string;
  returnTo: string | undefined;
  /** The application the user signs in for, when the sign-in continues an authorization request. */
  clientName?: string;
  username?: string;
  error?: string;
}

export function signInPage(m: SignInPageModel): string {
  return layout(
    'Sign in',
    html`<h1>Sign in</h1>
<p class="lead">${m.clientName ? html`Sign in to continue to <strong>${m.clientName}</strong>.` : 'Sign in to continue.'}</p>
${m.error ? html`<p class="alert" role="alert">${m.error}</p>` : ''}
<form method="post" action="/login">
<input type="hidden" name="csrf" value="${m.csrf}">
${m.returnTo ? html`<input type="hidden" name="return_to" value="${m.returnTo}">` : ''}
<label for="username">Username</label>
<input type="text" id="username" name="username" value="${m.username ?? ''}" autocomplete="username" autocapitalize="none" spellcheck="false" required${m.username ? '' : html` autofocus`}>
<label for="password">Password</label>
<input type="password" id="password" name="password" autocomplete="current-password" required${m.username ? html` autofocus` : ''}>
<div class="actions"><button type="submit" class="primary">Sign in</button></div>
</form>`,
  );
}

export interface ConsentPageModel {
  csrf: string;
  /** The authorization request's query string, posted back with the decision. */
  query: string;
  request: AuthorizationRequest;
  user: User;
  scopeDescriptions: Record<string, string>;
  issuer: string;
}

export function consentPage(m: ConsentPageModel): string {
  const { client } = m.request;
  const name = client.clientName ?? client.clientId;
  const resources = m.request.resources.filter((r) => r !== m.issuer);
  return layout(
    `Allow ${name}?`,
    html`<h1>${name} wants to access your account</h1>
<p class="lead">If you allow it, ${name} will be able to:</p>
${
  m.request.scope.length > 0
    ? html`<ul class="scopes">${m.request.scope.map(
        (s) => html`<li><span class="what">${m.scopeDescriptions[s] ?? s}</span>${m.scopeDescriptions[s] ? html`<code>${s}</code>` : ''}</li>`,
      )}</ul>`
    : html`<ul class="scopes"><li><span class="what">Know that you signed in</span></li></ul>`
}
${resources.length > 0 ? html`<div class="resources">On these services:<ul>${resources.map((r) => html`<li><code>${r}</code></li>`)}</ul></div>` : ''}
<form method="post" action="/oauth2/authorize/decision">
<input type="hidden" name="csrf" value="${m.csrf}">
<input type="hidden" name="request" value="${m.query}">
<label class="check"><input type="checkbox" name="remember" value="yes" checked> Remember my decision for ${name}</label>
<div class="actions">
<button type="submit" name="decision" value="deny">Deny</button>
<button type="submit" name="decision" value="allow" class="primary">Allow</button>
</div>
</form>
<div class="account"><span>Signed in as <strong>${m.user.username}</strong></span>
<form method="post" action="/logout"><input type="hidden" name="csrf" value="${m.csrf}"><input type="hidden" name="return_to" value="/oauth2/authorize?${m.query}"><button type="submit">Not you?</button></form></div>`,
  );
}

export function signedInPage(user: User, csrf: string): string {
  return layout(
    'Signed in',
    html`<h1>You are signed in</h1>
<p class="lead">Signed in as <strong>${user.username}</strong>. You can close this page and go back to the application.</p>
<form method="post" action="/logout"><input type="hidden" name="csrf" value="${csrf}"><div class="actions"><button type="submit">Sign out</button></div></form>`,
  );
}

export function errorPage(title: string, message: string, detail?: string): string {
  return layout(title, html`<h1>${title}</h1><p class="lead">${message}</p>${detail ? html`<p class="detail">Reason: ${detail}</p>` : ''}`);
}
