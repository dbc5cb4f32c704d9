// Characters no OAuth parameter, credential or client metadata value may carry.
//
// RFC 6749 Appendix A restricts every parameter it defines (client_id, client_secret, code, scope,
// state, tokens, …) to visible ASCII and space; RFC 3986 URIs (redirect_uri, resource) have no
// controls at all. PostgreSQL refuses NUL in text, so a NUL that got this far would be a 500.

/** C0 controls, DEL and C1 controls (Unicode general category Cc). */
const CONTROL = /\p{Cc}/u;

/**
 * What must not reach a page a person reads: controls, and the characters that reorder or hide
 * text around them (Unicode bidi embeddings, overrides, isolates and marks, and the line and
 * paragraph separators), which let a name pose as another ("Trojan Source", CVE-2021-42574), and lone
 * surrogates (no character at all: PostgreSQL would store U+FFFD in their place).
 */
const UNSAFE_FOR_DISPLAY = /[\p{Cc}\p{Cs}\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/u;
const UNSAFE_FOR_DISPLAY_ALL = new RegExp(UNSAFE_FOR_DISPLAY.source, 'gu');

export function hasControlCharacter(value: string): boolean {
  return CONTROL.test(value);
}

export function hasUnsafeDisplayCharacter(value: string): boolean {
  return UNSAFE_FOR_DISPLAY.test(value);
}

/** `value` without controls and bidi formatting characters, for showing text that was stored before it was checked. */
export function displayText(value: string): string {
  return value.replace(UNSAFE_FOR_DISPLAY_ALL, '');
}
