// Tessera's revocation feed: every revocation, in commit order, for resource
// servers that verify tokens locally. Paged JSON for catch-up; the app layer
// streams the same entries over Server-Sent Events. Only resource servers read
// it, each seeing only what it needs (see feed-view.ts).
import type { ClientAuthenticator } from '../client-auth/client-authenticator.js';
import type { Client } from '../domain/client.js';
import { OAuthError } from '../errors/oauth-error.js';
import { FormParams } from '../forms/form-params.js';
import { revocationWire } from '../forms/wire.js';
import { ClientRepository } from '../ports/client.repository.js';
import { RevocationRepository, type RevocationEntry } from '../ports/revocation.repository.js';
import { feedViewOf } from '../revocations/feed-view.js';

/** The resource server a feed is read by, as it was when it authenticated. */
export type FeedReader = Pick<Client, 'clientId' | 'secretHash' | 'resourceServerFor' | 'revocationFeedKey'>;

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
    private readonly clients: ClientRepository,
  ) {}

  /**
   * Authenticates the follower (HTTP Basic), which must be a resource server, and returns the cursor to
   * start after and who reads.
   */
  async open(
    authorization: string | undefined,
    query: unknown,
    lastEventId?: string,
    /** The (empty) form the client authenticates with: the caller's own lets it recognise the request when told of the client. */
    credentials: FormParams = FormParams.from({}),
  ): Promise<{ after: string; reader: FeedReader }> {
    const params = FormParams.from(query);
    const after = lastEventId ?? params.get('after') ?? '0';
    if (!isRevocationSeq(after)) {
      throw OAuthError.invalidRequest(`${lastEventId === undefined ? 'after' : 'Last-Event-ID'} must be a revocation seq (a whole number from 0 to ${MAX_SEQ})`);
    }
    const client = await this.authenticator.authenticate(authorization, credentials, { anySecretMethod: true });
    if (client.resourceServerFor.length === 0 || !client.revocationFeedKey) {
      throw OAuthError.accessDenied('only resource servers may read the revocation feed (see resource_server_for)');
    }
    const { clientId, secretHash, resourceServerFor, revocationFeedKey } = client;
    return { after, reader: { clientId, secretHash, resourceServerFor, revocationFeedKey } };
  }

  /**
   * Whether `reader` may still read the feed as it authenticated: the client still exists, is enabled, has
   * the same secret, and serves the same resources with the same key. An open stream is checked again when
   * its client changes, and closed when this is false.
   */
  async stillAllowed(reader: FeedReader): Promise<boolean> {
    const client = await this.clients.findById(reader.clientId);
    return (
      !!client &&
      !client.disabledAt &&
      client.secretHash === reader.secretHash &&
      client.revocationFeedKey === reader.revocationFeedKey &&
      client.resourceServerFor.length === reader.resourceServerFor.length &&
      client.resourceServerFor.every((r) => reader.resourceServerFor.includes(r))
    );
  }

  /** One page of entries after the cursor: those the reader is shown, in its view; `next_after` covers the rest too. */
  async page(authorization: string | undefined, query: unknown, credentials?: FormParams): Promise<Record<string, unknown>> {
    const { after, reader } = await this.open(authorization, query, undefined, credentials);
    const rawLimit = FormParams.from(query).get('limit') ?? String(FEED_MAX_PAGE);
    const limit = Number(rawLimit);
    if (!/^\d+$/.test(rawLimit) || limit < 1 || limit > FEED_MAX_PAGE) {
      throw OAuthError.invalidRequest(`limit must be a whole number from 1 to ${FEED_MAX_PAGE}`);
    }
    const entries = await this.revocations.listAfter(after, limit + 1);
    const page = entries.slice(0, limit);
    return {
      revocations: feedWire(page, reader),
      next_after: page.at(-1)?.seq ?? after,
      has_more: entries.length > limit,
      // Who reads: the resources it is shown the entries of, and the key of its pseudonyms (HMAC-SHA256),
      // to compute them from the tokens it verifies.
      resource_server_for: reader.resourceServerFor,
      pseudonym_key: reader.revocationFeedKey,
    };
  }
}

/** The wire form of the entries `reader` is shown, in its view. */
export function feedWire(entries: RevocationEntry[], reader: FeedReader): Record<string, unknown>[] {
  return entries.flatMap((e) => {
    const view = feedViewOf(e, reader);
    return view ? [revocationWire(view)] : [];
  });
}
