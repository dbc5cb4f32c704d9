import { OAuthError } from '@tessera/oauth-core';
import { QueryFailedError } from 'typeorm';
import { isDatabaseOutage, translateOutage } from './database-outage.js';

const withCode = (code: string, message = 'x') => Object.assign(new Error(message), { code });
const queryFailed = (driverError: Error) => new QueryFailedError('SELECT 1', [], driverError);

describe('isDatabaseOutage', () => {
  it.each([
    ['connection refused', withCode('ECONNREFUSED')],
    ['connection reset', withCode('ECONNRESET')],
    ['connect timed out', withCode('ETIMEDOUT')],
    ['refused on every address (AggregateError)', new AggregateError([withCode('ECONNREFUSED'), withCode('ECONNREFUSED')], 'x')],
    ['a broken connection', new Error('Connection terminated unexpectedly')],
    ['an ended connection', new Error('Connection terminated')],
    ['the pool timing out', new Error('timeout exceeded when trying to connect')],
    ['pool connect timeout with cause', new Error('Connection terminated due to connection timeout', { cause: new Error('timeout expired') })],
    ['SQLSTATE 08006 connection_failure', queryFailed(withCode('08006'))],
    ['SQLSTATE 08001', withCode('08001')],
    ['SQLSTATE 57P01 admin_shutdown', queryFailed(withCode('57P01'))],
    ['SQLSTATE 57P02 crash_shutdown', withCode('57P02')],
    ['SQLSTATE 57P03 cannot_connect_now', withCode('57P03')],
    ['SQLSTATE 53300 too_many_connections', withCode('53300')],
    ['SQLSTATE 57014 statement timeout', queryFailed(withCode('57014'))],
    ['an outage as the cause', new Error('wrapped', { cause: withCode('ECONNRESET') })],
  ])('is true for %s', (_, error) => {
    expect(isDatabaseOutage(error)).toBe(true);
  });

  it.each([
    ['a unique violation', queryFailed(withCode('23505'))],
    ['a bad uuid', queryFailed(withCode('22P02'))],
    ['an undefined table', withCode('42P01')],
    ['a plain error', new Error('boom')],
    ['an OAuthError', OAuthError.temporarilyUnavailable(withCode('ECONNREFUSED'))],
    ['a string', 'ECONNREFUSED'],
    ['undefined', undefined],
  ])('is false for %s', (_, error) => {
    expect(isDatabaseOutage(error)).toBe(false);
  });
});

describe('translateOutage', () => {
  it('passes the result through', async () => {
    await expect(translateOutage(async () => 42)).resolves.toBe(42);
  });

  it('turns an outage into temporarily_unavailable, keeping the cause', async () => {
    const cause = withCode('ECONNREFUSED');
    const error = await translateOutage(() => Promise.reject(cause)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OAuthError);
    expect(error).toMatchObject({ code: 'temporarily_unavailable', status: 503, cause });
  });

  it('lets any other error through unchanged', async () => {
    const other = queryFailed(withCode('23505'));
    await expect(translateOutage(() => Promise.reject(other))).rejects.toBe(other);
  });
});
