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
