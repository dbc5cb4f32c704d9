// RFC 6749 §4.1.1-4.1.2.1: the Authorization Request and Response, code flow only, as OAuth 2.1 and
// RFC 9700 have it: PKCE with S256 for every client (RFC 7636), the exact registered redirect URI,
// RFC 8707 resource indicators, and RFC 9207 `iss` in every response sent back to the client.
import type { Client } from '../domain/client.js';
import type { Consent } from '../domain/consent.js';
import type { User } from '../domain/user.js';
import { OAuthError } from '../errors/oauth-error.js';
import type { FormParams } from '../forms/form-params.js';
import { isS256Challenge } from '../grants/pkce.js';
import type { Clock } from '../ports/clock.port.js';
import { ClientRepository } from '../ports/client.repository.js';
import { ConsentRepository } from '../ports/consent.repository.js';
import { resolveAudience } from '../scopes/resource.js';
import { grantedScopes, parseScope } from '../scopes/scope.js';
import type { AuthorizationCodeIssuer } from '../tokens/authorization-code.issuer.js';

/** A request that passed every check: what the consent page shows and the code is bound to. */
export interface AuthorizationRequest {
  client: Client;
  redirectUri: string;
  state?: string;
  scope: string[];
  /** RFC 8707 audiences, resolved for the client. */
  resources: string[];
  codeChallenge: string;
}

export type AuthorizationOutcome =
  /** The client or its redirect URI can't be trusted: tell the user, never redirect (§4.1.2.1, RFC 9700 §4.11). */
  | { kind: 'show-error'; error: OAuthError }
  /** Back to the client, with a code or an error. */
  | { kind: 'redirect'; location: string }
  | { kind: 'sign-in' }
  | { kind: 'consent'; request: AuthorizationRequest };

/** §4.1.2.1 error codes; anything else is reported to the client as server_error. */
const REDIRECTABLE = new Set(['invalid_request', 'unauthorized_client', 'access_denied', 'unsupported_response_type', 'invalid_scope', 'server_error', 'temporarily_unavailable', 'invalid_target']);

type Checked = { kind: 'valid'; request: AuthorizationRequest } | Exclude<AuthorizationOutcome, { kind: 'sign-in' | 'consent' }>;

export class AuthorizationEndpoint {
  constructor(
    private readonly clients: ClientRepository,
    private readonly consents: ConsentRepository,
    private readonly codes: AuthorizationCodeIssuer,
    private readonly clock: Clock,
    private readonly issuer: string,
  ) {}

  /** GET /oauth2/authorize: a signed-in user with a remembered consent covering the request gets a code at once. */
  async authorize(params: FormParams, user: User | null): Promise<AuthorizationOutcome> {
    const checked = await this.check(params);
    if (checked.kind !== 'valid') return checked;
    if (!user) return { kind: 'sign-in' };
    const { request } = checked;
    const consent = await this.consents.find(user.id, request.client.clientId);
    if (consent && covers(consent, request)) return this.approve(request, user);
    return { kind: 'consent', request };
  }

  /** The user's answer on the consent page, about the request that page showed (checked again). */
  async decide(params: FormParams, user: User, decision: { allow: boolean; remember: boolean }): Promise<AuthorizationOutcome> {
    const checked = await this.check(params);
    if (checked.kind !== 'valid') return checked;
    const { request } = checked;
    if (!decision.allow) return this.fail(request, OAuthError.accessDenied('the user denied the request'));
    if (decision.remember) {
      await this.consents.grant({ userId: user.id, clientId: request.client.clientId, scopes: request.scope, resources: request.resources, grantedAt: this.clock.now() });
    }
    return this.approve(request, user);
  }

  private async approve(request: AuthorizationRequest, user: User): Promise<AuthorizationOutcome> {
    const code = await this.codes.issue({
      client: request.client,
      redirectUri: request.redirectUri,
      codeChallenge: request.codeChallenge,
      codeChallengeMethod: 'S256',
      scope: request.scope,
      resources: request.resources,
      subject: user.id,
    });
    return { kind: 'redirect', location: this.responseUri(request, { code }) };
  }

  private async check(params: FormParams): Promise<Checked> {
    // Until the client and its redirect URI are known good, errors are shown, not redirected.
    let client: Client | null;
    let redirectUri: string;
    try {
      const clientId = params.require('client_id');
      client = await this.clients.findById(clientId);
      if (!client || client.disabledAt) return show(OAuthError.invalidRequest('unknown client'));
      redirectUri = params.require('redirect_uri');
    } catch (error) {
      if (error instanceof OAuthError && error.code === 'invalid_request') return show(error);
      throw error;
    }
    if (!client.redirectUris.includes(redirectUri)) return show(OAuthError.invalidRequest('redirect_uri is not registered for this client'));

    let state: string | undefined;
    try {
      state = params.get('state');
    } catch (error) {
      return this.fail({ redirectUri }, error);
    }
    try {
      return { kind: 'valid', request: this.validate(params, client, redirectUri, state) };
    } catch (error) {
      return this.fail({ redirectUri, state }, error);
    }
  }

  private validate(params: FormParams, client: Client, redirectUri: string, state: string | undefined): AuthorizationRequest {
    const responseType = params.require('response_type');
    if (responseType !== 'code') throw OAuthError.unsupportedResponseType(responseType);
    if (!client.grantTypes.includes('authorization_code')) throw OAuthError.unauthorizedClient('this client may not use the authorization_code grant');
    const method = params.get('code_challenge_method');
    const codeChallenge = params.get('code_challenge');
    if (codeChallenge === undefined) throw OAuthError.invalidRequest('code_challenge is required (PKCE with S256)');
    if (method !== 'S256') throw OAuthError.invalidRequest('code_challenge_method must be S256 (plain is not supported)');
    if (!isS256Challenge(codeChallenge)) throw OAuthError.invalidRequest('code_challenge must be the base64url SHA-256 of a code_verifier');
    const scope = grantedScopes(parseScope(params.get('scope')), client.scopes);
    const resources = resolveAudience(params.getAll('resource'), client, this.issuer);
    return { client, redirectUri, state, scope, resources, codeChallenge };
  }

  private fail(request: Pick<AuthorizationRequest, 'redirectUri' | 'state'>, error: unknown): { kind: 'redirect'; location: string } {
    if (!(error instanceof OAuthError)) throw error;
    const sent = REDIRECTABLE.has(error.code) ? error : OAuthError.serverError(error);
    return { kind: 'redirect', location: this.responseUri(request, { error: sent.code, error_description: sent.description }) };
  }

  /** §4.1.2: the parameters added to the registered URI's own query, then `state` and RFC 9207 `iss`. */
  private responseUri(request: Pick<AuthorizationRequest, 'redirectUri' | 'state'>, params: Record<string, string>): string {
    const url = new URL(request.redirectUri);
    for (const [name, value] of Object.entries(params)) url.searchParams.append(name, value);
    if (request.state !== undefined) url.searchParams.append('state', request.state);
    url.searchParams.append('iss', this.issuer);
    return url.href;
  }
}

function show(error: OAuthError): Checked {
  return { kind: 'show-error', error };
}

/** A remembered consent covers the request when it already allows every scope and resource asked for. */
function covers(consent: Consent, request: AuthorizationRequest): boolean {
  return request.scope.every((s) => consent.scopes.includes(s)) && request.resources.every((r) => consent.resources.includes(r));
}
