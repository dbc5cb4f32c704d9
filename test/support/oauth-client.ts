// The client's half of the code flow with oauth4webapi: discovery and the authorization request (PKCE
// S256, state, RFC 8707 resources), as a web app or a single-page app would make them.
import * as oauth from 'oauth4webapi';

/** The test servers speak plain HTTP on 127.0.0.1. */
export const insecure = { [oauth.allowInsecureRequests]: true } as const;

export async function discover(issuerUrl: string): Promise<oauth.AuthorizationServer> {
  const issuer = new URL(issuerUrl);
  return oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { ...insecure, algorithm: 'oauth2' }));
}

/** An authorization request about to be sent: its URL, and what the client keeps to check and redeem the answer. */
export interface AuthorizationAttempt {
  url: URL;
  state: string;
  codeVerifier: string;
  redirectUri: string;
}

export async function authorizationRequest(
  as: oauth.AuthorizationServer,
  client: oauth.Client,
  options: { redirectUri: string; scope?: string; resources?: string[]; extra?: Record<string, string> },
): Promise<AuthorizationAttempt> {
  if (!as.authorization_endpoint) throw new Error('the server metadata has no authorization_endpoint');
  const codeVerifier = oauth.generateRandomCodeVerifier();
  const state = oauth.generateRandomState();
  const url = new URL(as.authorization_endpoint);
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('client_id', client.client_id);
  url.searchParams.set('redirect_uri', options.redirectUri);
  if (options.scope !== undefined) url.searchParams.set('scope', options.scope);
  url.searchParams.set('state', state);
  url.searchParams.set('code_challenge', await oauth.calculatePKCECodeChallenge(codeVerifier));
  url.searchParams.set('code_challenge_method', 'S256');
  for (const resource of options.resources ?? []) url.searchParams.append('resource', resource);
  for (const [name, value] of Object.entries(options.extra ?? {})) url.searchParams.set(name, value);
  return { url, state, codeVerifier, redirectUri: options.redirectUri };
}

/** Checks the redirect back (state, RFC 9207 iss, or the error it carries) and redeems the code. */
export async function redeem(
  as: oauth.AuthorizationServer,
  client: oauth.Client,
  auth: oauth.ClientAuth,
  attempt: AuthorizationAttempt,
  callback: URL,
): Promise<oauth.TokenEndpointResponse> {
  const params = oauth.validateAuthResponse(as, client, callback, attempt.state);
  const response = await oauth.authorizationCodeGrantRequest(as, client, auth, params, attempt.redirectUri, attempt.codeVerifier, insecure);
  return oauth.processAuthorizationCodeResponse(as, client, response);
}
