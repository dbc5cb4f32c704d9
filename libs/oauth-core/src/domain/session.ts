/** A user signed in at the authorization server (the browser holds the token; the server keeps its hash). */
export interface Session {
  /** uuid */
  id: string;
  userId: string;
  createdAt: Date;
  expiresAt: Date;
}
