import type { Client } from '../domain/client.js';
import type { FormParams } from '../forms/form-params.js';

/** RFC 6749 §5.1 successful response, in domain form (the wire form lives in forms/). */
export interface TokenResult {
  accessToken: string;
  tokenType: 'Bearer';
  expiresIn: number;
  scope: string[];
  refreshToken?: string;
}

/** One grant type of the token endpoint. Registering it is what enables it. */
export interface Grant {
  readonly grantType: string;
  /** Parameters this grant reads, besides grant_type and client authentication. */
  readonly parameters: readonly string[];
  /** Whether clients without a secret may use it. */
  readonly allowsPublicClients: boolean;
  handle(params: FormParams, client: Client): Promise<TokenResult>;
}

export const GRANTS = Symbol('GRANTS');
