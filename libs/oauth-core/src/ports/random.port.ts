export abstract class RandomSource {
  /** `byteLength` bytes from a CSPRNG, base64url without padding. */
  abstract token(byteLength: number): string;
}
