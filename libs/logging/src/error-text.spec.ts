import { errorForLog, scrubCredentials } from './error-text.js';

describe('errorForLog', () => {
  it('leaves out the values PostgreSQL quotes in its messages', () => {
    const error = Object.assign(new Error('invalid input syntax for type uuid: "tsr_cs_abcdef"'), { code: '22P02' });
    const text = errorForLog(error);
    expect(text).toMatch(/^Error: invalid input syntax for type uuid: "…"\n/);
    expect(text).not.toContain('abcdef');
  });

  it('scrubs credentials from any error, and names a non-error by its type only', () => {
    expect(errorForLog(new Error('bad token tsr_at_0123456789abcdef in Bearer abc.def-ghi'))).toMatch(/^Error: bad token tsr_at_\[redacted] in Bearer \[redacted]\n/);
    expect(errorForLog('tsr_rt_secret')).toBe('a thrown string');
    expect(scrubCredentials('Authorization: Basic dXNlcjpwYXNz')).toBe('Authorization: Basic [redacted]');
  });
});
