import { OAuthError } from '../errors/oauth-error.js';

// ignoreBOM: a leading U+FEFF is kept, as decodeURIComponent keeps it (WHATWG URL: UTF-8 decode without BOM).
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Parses an application/x-www-form-urlencoded body (WHATWG URL §5.1) strictly:
 * every value is kept (so repeated parameters can be refused), a broken
 * percent-escape or invalid UTF-8 is an `invalid_request`, never mojibake.
 */
export function parseForm(body: Buffer | string): Record<string, string[]> {
  const text = typeof body === 'string' ? body : body.toString('latin1');
  const params: Record<string, string[]> = Object.create(null);
  for (const pair of text.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const name = decodeComponent(eq === -1 ? pair : pair.slice(0, eq));
    const value = decodeComponent(eq === -1 ? '' : pair.slice(eq + 1));
    (params[name] ??= []).push(value);
  }
  return params;
}

/** A character that is not ASCII (a raw byte above 0x7f of the body, read as latin1). */
const NOT_ASCII = /[^\x00-\x7f]/;
/** A `%` not followed by two hex digits. */
const BROKEN_ESCAPE = /%(?![0-9A-Fa-f]{2})/;

function decodeComponent(raw: string): string {
  // Most names and values are plain ASCII: as they are, or through decodeURIComponent once their escapes are known
  // to be well formed (it refuses invalid UTF-8 as the decoder below does). Raw bytes above 0x7f take the long way.
  if (!NOT_ASCII.test(raw)) {
    const text = raw.includes('+') ? raw.replace(/\+/g, ' ') : raw;
    if (!text.includes('%')) return text;
    if (BROKEN_ESCAPE.test(text)) throw OAuthError.invalidRequest('malformed percent-encoding in the request body');
    try {
      return decodeURIComponent(text);
    } catch (cause) {
      throw OAuthError.invalidRequest('the request body is not valid UTF-8', cause);
    }
  }
  const bytes: number[] = [];
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c === 0x2b) {
      bytes.push(0x20);
    } else if (c === 0x25) {
      const hex = raw.slice(i + 1, i + 3);
      if (!/^[0-9A-Fa-f]{2}$/.test(hex)) throw OAuthError.invalidRequest('malformed percent-encoding in the request body');
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else if (c > 0xff) {
      throw OAuthError.invalidRequest('the request body is not valid form encoding');
    } else {
      bytes.push(c);
    }
  }
  try {
    return utf8.decode(Uint8Array.from(bytes));
  } catch (cause) {
    throw OAuthError.invalidRequest('the request body is not valid UTF-8', cause);
  }
}
