/**
 * What happened that an operator must be able to find later: who signed in or failed to, which code or refresh
 * token was used twice, what changed about clients, users and keys, what was revoked. Each event becomes a log line
 * of its own (with an `event` field). Events carry identifiers only: never a token, secret, code or password.
 */
export type AuditEvent =
  | { event: 'sign_in.succeeded'; userId: string; username: string; address: string }
  /** Wrong password, unknown name or disabled user; `userId` and `username` when the name is a known account. */
  | { event: 'sign_in.failed'; address: string; userId?: string; username?: string }
  | { event: 'sign_in.throttled'; address: string; retryAfterSeconds: number }
  | { event: 'authorization_code.reused'; clientId: string; grantId: string; userId: string }
  | { event: 'refresh_token.reused'; clientId: string; grantId: string }
  | { event: 'client.created'; clientId: string; clientName?: string; resourceServerFor: string[]; via: AuditVia }
  | { event: 'client.disabled'; clientId: string; via: AuditVia }
  | { event: 'client.enabled'; clientId: string; via: AuditVia }
  /** Deleted for good (RFC 7592 DELETE or `clients delete`); every token issued to it is revoked. */
  | { event: 'client.deleted'; clientId: string; via: AuditVia }
  | { event: 'client.changed'; clientId: string; change: 'secret_rotated' | 'resource_server_for'; tokensRevoked?: boolean; resourceServerFor?: string[]; via: AuditVia }
  /** Its metadata replaced (RFC 7592 PUT or `clients update`): whether a secret was issued or dropped with it. */
  | { event: 'client.changed'; clientId: string; change: 'metadata'; secretIssued: boolean; secretDropped: boolean; via: AuditVia }
  | { event: 'user.created'; userId: string; username: string }
  | { event: 'user.disabled'; userId: string; username: string }
  | { event: 'user.enabled'; userId: string; username: string }
  | { event: 'user.changed'; userId: string; username: string; change: 'password' | 'consent_revoked'; clientId?: string; consentsRevoked?: number }
  /** `scheduled`: by TESSERA_KEY_ROTATION_INTERVAL, not by `keys rotate`. */
  | { event: 'key.rotated'; kid: string; algorithm: string; retiredKid?: string; signedTokensRevoked: boolean; scheduled?: boolean }
  | { event: 'token.revoked'; clientId: string; tokenType: 'access_token' | 'refresh_token'; grantId?: string; jti?: string };

/** Through which door a change came: the protocol (RFC 7591 registration) or the operator's CLI. */
export type AuditVia = 'registration' | 'operator';

export type AuditEventName = AuditEvent['event'];

export abstract class AuditLog {
  abstract record(event: AuditEvent): void;
}

/** For what records nothing: tests that don't look, tools that don't audit. */
export class NoAuditLog extends AuditLog {
  record(): void {}
}

/** Keeps the events, for tests. */
export class MemoryAuditLog extends AuditLog {
  readonly events: AuditEvent[] = [];
  record(event: AuditEvent): void {
    this.events.push(event);
  }
}
