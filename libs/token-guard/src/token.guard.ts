import {
  HttpException,
  Inject,
  Injectable,
  Logger,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { HttpAdapterHost, Reflector } from '@nestjs/core';
import { describeFailureSummary, FailureSummary, OAuthError } from '@tessera/oauth-core';
import { AccessTokenAuthenticator } from './access-token.authenticator.js';
import { bearerCredentialsAsSent, extractBearerToken } from './bearer-token.extractor.js';
import { REQUIRED_SCOPES } from './require-scopes.decorator.js';
import type { TokenGuardCounts, TokenGuardRejection } from './token-guard.metrics.js';
import { TOKEN_GUARD_SETTINGS, type TokenGuardSettings } from './token-guard.options.js';
import { TOKEN_GUARD_COUNTS } from './token-guard.status.js';
import { VERIFIED_TOKEN } from './verified-token.decorator.js';
import type { VerifiedAccessToken } from './verified-access-token.js';
import { bearerChallenge } from './www-authenticate.header.js';

const RETRY_AFTER_SECONDS = '5';

/**
 * RFC 6750 bearer-token protection for a route: `@UseGuards(TokenGuard)`, with
 * `@RequireScopes(...)` for the scopes it needs. Works on Express and Fastify:
 * headers are set through the HttpAdapterHost and every refusal is an
 * HttpException carrying the JSON body, so the app's own filters see it too.
 * (Every dependency is named with @Inject: the published package is built
 * without decorator metadata.)
 */
@Injectable()
export class TokenGuard implements CanActivate {
  private readonly logger = new Logger('TokenGuard');
  /**
   * Refusals for want of the authorization server (unreachable, or its revocation feed stale): the first in full,
   * then a count per 10 s, then a line when a token is accepted again; not a line per refused request.
   */
  private readonly unavailable = new FailureSummary(
    (line) => {
      const message = describeFailureSummary('authorization server unavailable', line);
      if (line.kind === 'recovered') this.logger.log(message);
      else this.logger.warn(message);
    },
    { intervalMs: 10_000 },
  );
  /** The scopes each handler of each controller requires, read from the decorators once. */
  private readonly requiredScopes = new WeakMap<object, WeakMap<object, string[]>>();

  constructor(
    @Inject(AccessTokenAuthenticator) private readonly authenticator: AccessTokenAuthenticator,
    @Inject(TOKEN_GUARD_SETTINGS) private readonly settings: TokenGuardSettings,
    @Inject(Reflector) private readonly reflector: Reflector,
    @Inject(HttpAdapterHost) private readonly adapterHost: HttpAdapterHost,
    @Inject(TOKEN_GUARD_COUNTS) private readonly counts: TokenGuardCounts,
  ) {}

  /** Synchronous for a token verified before (most requests); a promise when it must be verified now. */
  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    const http = context.switchToHttp();
    const request = http.getRequest<{ headers: Record<string, string | string[] | undefined>; [VERIFIED_TOKEN]?: VerifiedAccessToken }>();
    const response = http.getResponse<unknown>();
    const required = this.required(context);
    const refuse = (error: unknown) => (error instanceof OAuthError ? this.refusal(error, response, required) : error);
    const header = request.headers.authorization;
    const authorization = typeof header === 'string' ? header : undefined;
    const url = this.adapterHost.httpAdapter.getRequestUrl(request);
    try {
      // Most requests carry a token verified before: found by its hash, it needs none of the checks again.
      const asSent = authorization !== undefined && !url.includes('access_token') ? bearerCredentialsAsSent(authorization) : undefined;
      const seen = asSent === undefined ? undefined : this.authenticator.known(asSent);
      if (seen) {
        this.counts.cacheHits++;
        return this.accept(request, seen, required);
      }

      const token = extractBearerToken({ authorization, url }, this.settings.allowQueryToken);
      if (token === undefined) {
        // §3.1: a request without authentication information gets a challenge, and a body, without an error code.
        this.setHeaders(response, { 'WWW-Authenticate': bearerChallenge({ realm: this.settings.realm }) });
        this.counts.rejected.missing_token++;
        throw new HttpException({}, 401);
      }
      this.counts.cacheMisses++;
      return this.authenticator
        .authenticate(token)
        .then((verified) => this.accept(request, verified, required))
        .catch((error: unknown) => {
          throw refuse(error);
        });
    } catch (error) {
      throw refuse(error);
    }
  }

  /** Throws `insufficient_scope` unless the token has every required scope; else leaves it for `@VerifiedToken()`. */
  private accept(request: { [VERIFIED_TOKEN]?: VerifiedAccessToken }, verified: VerifiedAccessToken, required: string[]): true {
    const missing = required.filter((scope) => !verified.scopes.includes(scope));
    if (missing.length > 0) throw new OAuthError('insufficient_scope', `the token lacks the required scope: ${missing.join(' ')}`);
    request[VERIFIED_TOKEN] = verified;
    if (verified.format === 'jwt') this.counts.acceptedJwt++;
    else this.counts.acceptedOpaque++;
    this.unavailable.success();
    return true;
  }

  private required(context: ExecutionContext): string[] {
    const [controller, handler] = [context.getClass(), context.getHandler()];
    let byHandler = this.requiredScopes.get(controller);
    if (!byHandler) this.requiredScopes.set(controller, (byHandler = new WeakMap()));
    let scopes = byHandler.get(handler);
    if (!scopes) {
      scopes = [...new Set(this.reflector.getAllAndMerge<string[]>(REQUIRED_SCOPES, [controller, handler]))];
      byHandler.set(handler, scopes);
    }
    return scopes;
  }

  /** RFC 6750 §3: the challenge header and the JSON body of a refused request. */
  private refusal(error: OAuthError, response: unknown, required: string[]): HttpException {
    const { realm } = this.settings;
    const body = { error: error.code, error_description: error.description };
    if (error.code in this.counts.rejected) this.counts.rejected[error.code as TokenGuardRejection]++;
    switch (error.code) {
      case 'invalid_request':
      case 'invalid_token':
        this.setHeaders(response, { 'WWW-Authenticate': bearerChallenge({ realm, error: error.code, errorDescription: error.description }) });
        break;
      case 'insufficient_scope':
        this.setHeaders(response, { 'WWW-Authenticate': bearerChallenge({ realm, error: error.code, scope: required }) });
        break;
      case 'temporarily_unavailable': {
        this.unavailable.failure(error.cause instanceof Error ? error.cause.message : String(error.cause));
        this.setHeaders(response, { 'Retry-After': RETRY_AFTER_SECONDS });
        break;
      }
      default:
        throw new Error(`TokenGuard: unexpected ${error.code}`, { cause: error });
    }
    return new HttpException(body, error.status, { cause: error });
  }

  private setHeaders(response: unknown, headers: Record<string, string>): void {
    const adapter = this.adapterHost.httpAdapter;
    for (const [name, value] of Object.entries({ ...headers, 'Cache-Control': 'no-store' })) adapter.setHeader(response, name, value);
  }
}
