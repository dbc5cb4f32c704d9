import type { ChangeEvent } from '@tessera/oauth-core';
import type { EntityManager } from 'typeorm';

/** The PostgreSQL NOTIFY channel on which writes announce what changed. */
export const CHANGE_CHANNEL = 'tessera_changes';

/** Payloads: `client:<clientId>`, `signing-keys`, `revocation`, `all`. */
export function changePayload(event: ChangeEvent): string {
  return event.kind === 'client' ? `client:${event.clientId}` : event.kind;
}

/** The event a payload announces; null for one this version does not know (it caches nothing it names). */
export function parseChangePayload(payload: string): ChangeEvent | null {
  if (payload.startsWith('client:')) return { kind: 'client', clientId: payload.slice('client:'.length) };
  if (payload === 'signing-keys' || payload === 'revocation' || payload === 'all') return { kind: payload };
  return null;
}

/** Queues the notification in `manager`'s transaction; PostgreSQL delivers it on commit, and not at all on rollback. */
export async function notifyChange(manager: EntityManager, event: ChangeEvent): Promise<void> {
  await manager.query('SELECT pg_notify($1, $2)', [CHANGE_CHANNEL, changePayload(event)]);
}
