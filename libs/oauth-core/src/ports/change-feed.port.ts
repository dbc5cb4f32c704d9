/** Something cached changed, possibly in another process (the CLI, another instance). */
export type ChangeEvent =
  | { kind: 'client'; clientId: string }
  | { kind: 'signing-keys' }
  /** New entries were appended to the revocation log. */
  | { kind: 'revocation' }
  | { kind: 'all' };

export abstract class ChangeFeed {
  /** Calls `listener` for every change until the returned function is called. */
  abstract subscribe(listener: (event: ChangeEvent) => void): () => void;
}

/** A feed nothing ever publishes to (single-process tests). */
export class LocalChangeFeed extends ChangeFeed {
  private readonly listeners = new Set<(event: ChangeEvent) => void>();
  subscribe(listener: (event: ChangeEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  publish(event: ChangeEvent): void {
    for (const l of this.listeners) l(event);
  }
}
