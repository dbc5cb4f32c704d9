import { AuditLog, type AuditEvent } from '@tessera/oauth-core';
import type { Logger } from 'pino';

/**
 * Audit events as lines of their own: `event` and the event's fields in snake_case, at info, with `audit: true`.
 * Each is written out at once (`flush`), with whatever a batched destination held before it.
 */
export class PinoAuditLog extends AuditLog {
  private readonly logger: Logger;

  constructor(logger: Logger) {
    super();
    this.logger = logger.child({ audit: true });
  }

  record(event: AuditEvent): void {
    const fields: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(event)) {
      if (value !== undefined) fields[name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)] = value;
    }
    this.logger.info(fields, event.event);
    this.logger.flush();
  }
}
