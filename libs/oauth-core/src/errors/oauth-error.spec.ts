import { OAuthError, OAUTH_ERROR_STATUS } from './oauth-error.js';

describe('OAuthError', () => {
  it('takes its status from the code', () => {
    expect(OAuthError.invalidClient().status).toBe(401);
    expect(OAuthError.temporarilyUnavailable().status).toBe(503);
    expect(new OAuthError('invalid_scope', 'x').status).toBe(OAUTH_ERROR_STATUS.invalid_scope);
  });
  it('keeps the cause private to the message sent', () => {
    const e = OAuthError.invalidRequest('bad', new Error('secret detail'));
    expect(e.description).toBe('bad');
    expect((e.cause as Error).message).toBe('secret detail');
  });
});
