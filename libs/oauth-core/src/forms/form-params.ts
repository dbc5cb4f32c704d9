import { OAuthError } from '../errors/oauth-error.js';
import { hasControlCharacter } from './characters.js';

/**
 * Request parameters of an OAuth endpoint. RFC 6749 §3.1: a parameter sent
 * without a value is treated as omitted; §3.2: none may appear twice (except
 * those that are lists by definition, like RFC 8707 `resource`). No name or
 * value may hold a control character (Appendix A: every parameter is visible
 * ASCII, URIs have none), so none reaches a lookup or the database.
 */
export class FormParams {
  private constructor(private readonly values: Record<string, string[]>) {}

  static from(body: unknown): FormParams {
    if (body === undefined || body === null) return new FormParams(Object.create(null));
    if (typeof body !== 'object' || Array.isArray(body)) throw OAuthError.invalidRequest('the request body must be a form');
    const values: Record<string, string[]> = Object.create(null);
    for (const [name, raw] of Object.entries(body)) {
      const list = Array.isArray(raw) ? raw : [raw];
      if (!list.every((v) => typeof v === 'string')) throw OAuthError.invalidRequest('the request body must be a form');
      if (hasControlCharacter(name)) throw OAuthError.invalidRequest('a parameter name contains a control character');
      if ((list as string[]).some(hasControlCharacter)) throw OAuthError.invalidRequest(`parameter "${name}" contains a control character`);
      const present = (list as string[]).filter((v) => v !== '');
      if (present.length > 0) values[name] = present;
    }
    return new FormParams(values);
  }

  /** The single value of `name`, or undefined. A repeated parameter is an invalid_request. */
  get(name: string): string | undefined {
    const list = this.values[name];
    if (!list) return undefined;
    if (list.length > 1) throw OAuthError.invalidRequest(`parameter "${name}" must not be repeated`);
    return list[0];
  }

  require(name: string): string {
    const value = this.get(name);
    if (value === undefined) throw OAuthError.invalidRequest(`missing required parameter "${name}"`);
    return value;
  }

  getAll(name: string): string[] {
    return this.values[name] ?? [];
  }

  has(name: string): boolean {
    return name in this.values;
  }

  names(): string[] {
    return Object.keys(this.values);
  }
}
