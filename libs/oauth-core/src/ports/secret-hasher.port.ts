/** Hashes server-generated, high-entropy client secrets; verification is constant-time. */
export abstract class SecretHasher {
  abstract hash(secret: string): string;
  abstract verify(secret: string, hash: string): boolean;
}
