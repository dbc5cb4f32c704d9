import { OAuthError } from '../errors/oauth-error.js';
import { FormParams } from './form-params.js';
import { parseForm } from './form-parser.js';

describe('parseForm', () => {
  it('decodes + and percent escapes as UTF-8', () => {
    expect(parseForm(Buffer.from('a=b+c&d=%C3%A9t%C3%A9&e'))).toEqual({ a: ['b c'], d: ['été'], e: [''] });
  });
  it('keeps repeated parameters', () => {
    expect(parseForm('resource=x&resource=y').resource).toEqual(['x', 'y']);
  });
  it.each(['a=%FF', 'a=%E2%82', 'a=%zz', 'a=%4'])('refuses %s as invalid_request', (body) => {
    expect(() => parseForm(Buffer.from(body))).toThrow(expect.objectContaining({ code: 'invalid_request' }));
  });
  it('decodes plain ASCII, escapes and raw bytes alike, whichever way it takes (against a byte-by-byte decoder)', () => {
    const reference = (raw: string): string => {
      const bytes: number[] = [];
      for (let i = 0; i < raw.length; i++) {
        const c = raw.charCodeAt(i);
        if (c === 0x2b) bytes.push(0x20);
        else if (c === 0x25) {
          if (!/^[0-9A-Fa-f]{2}$/.test(raw.slice(i + 1, i + 3))) return 'malformed percent-encoding in the request body';
          bytes.push(parseInt(raw.slice(i + 1, i + 3), 16));
          i += 2;
        } else bytes.push(c);
      }
      try {
        return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(Uint8Array.from(bytes));
      } catch {
        return 'the request body is not valid UTF-8';
      }
    };
    const outcome = (raw: string): string => {
      try {
        return parseForm(Buffer.from(`v=${raw}`, 'latin1')).v[0];
      } catch (e) {
        return (e as OAuthError).description;
      }
    };
    const values = [
      'plain', 'a+b', '%20', '%2B+%2b', 'http%3A%2F%2Fapi.example%2F', '%C3%A9', '%c3%a9t%C3%A9', '%EF%BB%BFbom', '%ED%A0%80', '%C0%AF',
      '%F4%90%80%80', '%F0%9F%94%91', '%E2%82', '%FF', '%zz', '%4', '%', 'a%', '%%41', '%41%', '\xe9', 'caf\xc3\xa9', '\xc3\xa9%20x', '%C3\xa9',
    ];
    for (let i = 0; i < 300; i++) {
      // Random runs of escapes (any byte), raw bytes, '+', '%' and ASCII.
      let v = '';
      for (let j = 0; j < 6; j++) {
        const r = Math.floor(Math.random() * 5);
        const byte = Math.floor(Math.random() * 256);
        v += r === 0 ? `%${byte.toString(16).padStart(2, '0')}` : r === 1 ? String.fromCharCode(byte) : r === 2 ? '+' : r === 3 ? '%' : 'x';
      }
      values.push(v.replace(/[&=]/g, 'y'));
    }
    for (const raw of values.map((v) => v.replace(/\\x([0-9a-f]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))))) {
      expect([raw, outcome(raw)]).toEqual([raw, reference(raw)]);
    }
  });
  it('treats __proto__ as an ordinary name', () => {
    const p = parseForm('__proto__=x');
    expect(Object.getPrototypeOf(p)).toBeNull();
    expect(p['__proto__']).toEqual(['x']);
  });
});

describe('FormParams', () => {
  it('treats empty values as omitted and refuses repeats', () => {
    const p = FormParams.from(parseForm('a=&b=1&c=1&c=2'));
    expect(p.get('a')).toBeUndefined();
    expect(p.get('b')).toBe('1');
    expect(() => p.get('c')).toThrow(OAuthError);
    expect(p.getAll('c')).toEqual(['1', '2']);
    expect(() => p.require('a')).toThrow(/missing required parameter "a"/);
  });
  it('refuses a JSON body with non-string values', () => {
    expect(() => FormParams.from({ grant_type: { x: 1 } })).toThrow(/must be a form/);
    expect(() => FormParams.from('text')).toThrow(/must be a form/);
  });
  it.each(['%00', '%01', '%09', '%0A', '%0D', '%1F', '%7F', '%C2%85'])('refuses a value or name holding %s as invalid_request', (escape) => {
    expect(() => FormParams.from(parseForm(`client_id=abc${escape}`))).toThrow(expect.objectContaining({ code: 'invalid_request' }));
    expect(() => FormParams.from(parseForm(`a${escape}=1`))).toThrow(expect.objectContaining({ code: 'invalid_request' }));
    expect(() => FormParams.from({ after: ['1', `2${decodeURIComponent(escape)}`] })).toThrow(expect.objectContaining({ code: 'invalid_request' }));
  });
  it('keeps spaces and non-ASCII text', () => {
    expect(FormParams.from(parseForm('scope=a+b&name=%C3%A9t%C3%A9')).get('name')).toBe('été');
  });
});
