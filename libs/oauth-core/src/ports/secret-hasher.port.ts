/** Hashes server-generated, high-entropy client secrets; verification is constant-time. */
export abstract class SecretHasher {
  abstract hash(secret: string): string;
  abstract verify(secret: string, hash: string): boolean;
  /** Whether a hash that verified should be stored again, as `hash` makes one now (an older format or key). */
  needsRehash(_hash: string): boolean {
    return false;
  }
}
