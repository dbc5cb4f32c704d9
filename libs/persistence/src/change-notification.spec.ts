import type { ChangeEvent } from '@tessera/oauth-core';
import { changePayload, parseChangePayload } from './change-notification.js';

describe('change payloads', () => {
  it.each<[ChangeEvent, string]>([
    [{ kind: 'client', clientId: 'abc' }, 'client:abc'],
    [{ kind: 'client', clientId: 'with:colon' }, 'client:with:colon'],
    [{ kind: 'signing-keys' }, 'signing-keys'],
    [{ kind: 'all' }, 'all'],
  ])('round-trips %j as %s', (event, payload) => {
    expect(changePayload(event)).toBe(payload);
    expect(parseChangePayload(payload)).toEqual(event);
  });

  it('ignores a payload it does not know', () => {
    expect(parseChangePayload('resource:x')).toBeNull();
    expect(parseChangePayload('')).toBeNull();
  });
});
