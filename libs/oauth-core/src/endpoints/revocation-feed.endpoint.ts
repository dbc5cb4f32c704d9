// Tessera's revocation feed: every revocation, in commit order, for resource
// servers that verify tokens locally. Paged JSON for catch-up; the app layer
// streams the same entries over Server-Sent Events.
import type { ClientAuthenticator } from '../client-auth/client-authenticator.js';
import { OAuthError } from '../errors/oauth-error.js';
import { FormParams } from '../forms/form-params.js';
import { revocationWire } from '../forms/wire.js';
import { RevocationRepository } from '../ports/revocation.repository.js';

export const FEED_MAX_PAGE = 1000;
/** PostgreSQL's bigint, which the seq is. */
const MAX_SEQ = 2n ** 63n - 1n;

/** A cursor: a whole number of at most 19 digits in the bigint range, with nothing else (no sign, space or exponent). */
export function isRevocationSeq(value: string): boolean {
  return /^\d{1,19}$/.test(value) && BigInt(value) <= MAX_SEQ;
}

export class RevocationFeedEndpoint {
  constructor(
    private readonly authenticator: ClientAuthenticator,
    private readonly revocations: RevocationRepository,
  ) {}

  /** Authenticates the follower (HTTP Basic, any confidential client) and returns the cursor to start after. */
  async open(authorization: string | undefined, query: unknown, lastEventId?: string): Promise<string> {
    const params = FormParams.from(query);
    const after = lastEventId ?? params.get('after') ?? '0';
    if (!isRevocationSeq(after)) {
      throw OAuthError.invalidRequest(`${lastEventId === undefined ? 'after' : 'Last-Event-ID'} must be a revocation seq (a whole number from 0 to ${MAX_SEQ})`);
    }
    await this.authenticator.authenticate(authorization, FormParams.from({}), { anySecretMethod: true });
    return after;
  }

  /** One page of entries after the cursor. */
  async page(authorization: string | undefined, query: unknown): Promise<Record<string, unknown>> {
    const after = await this.open(authorization, query);
    const rawLimit = FormParams.from(query).get('limit') ?? String(FEED_MAX_PAGE);
    const limit = Number(rawLimit);
    if (!/^\d+$/.test(rawLimit) || limit < 1 || limit > FEED_MAX_PAGE) {
      throw OAuthError.invalidRequest(`limit must be a whole number from 1 to ${FEED_MAX_PAGE}`);
    }
    const entries = await this.revocations.listAfter(after, limit + 1);
    const page = entries.slice(0, limit);
    return {
      revocations: page.map(revocationWire),
      next_after: page.at(-1)?.seq ?? after,
      has_more: entries.length > limit,
    };
  }
}
