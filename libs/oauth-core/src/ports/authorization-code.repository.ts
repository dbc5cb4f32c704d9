import type { AuthorizationCode } from '../domain/authorization-code.js';

export interface RedeemedAuthorizationCode {
  code: AuthorizationCode;
  /** Null when this call redeemed it; the instant of the earlier redemption when it had been redeemed already. */
  previouslyRedeemedAt: Date | null;
}

/** Authorization codes, kept only by the SHA-256 of the code. */
export abstract class AuthorizationCodeRepository {
  abstract insert(codeHash: string, code: AuthorizationCode): Promise<void>;
  /**
   * Marks the code of `clientId` redeemed at `at`, atomically: of two
   * concurrent calls, one gets `previouslyRedeemedAt: null`, the other the
   * first one's instant. The code is returned either way (so a reuse can
   * revoke its grant). Null, and nothing marked, when the code is unknown or
   * was issued to another client (whose code then stays usable by its owner).
   */
  abstract redeem(codeHash: string, clientId: string, at: Date): Promise<RedeemedAuthorizationCode | null>;
}
