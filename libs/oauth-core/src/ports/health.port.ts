export abstract class HealthCheck {
  /** Resolves when the database answers; rejects otherwise. */
  abstract ping(): Promise<void>;
}
