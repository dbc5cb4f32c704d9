/** RFC 6749 §4.1.2 authorization code, as stored (by hash), with what it is bound to. */
export interface AuthorizationCode {
  clientId: string;
  /** The user (User.id) who authorized it. */
  subject: string;
  redirectUri: string;
  /** RFC 7636 S256 challenge: base64url(SHA-256(code_verifier)). */
  codeChallenge: string;
  codeChallengeMethod: 'S256';
  scope: string[];
  /** RFC 8707 audiences of the tokens it yields. */
  audience: string[];
  /** The grant every token issued from this code carries (uuid); it also names the refresh-token family. */
  grantId: string;
  issuedAt: Date;
  expiresAt: Date;
}
