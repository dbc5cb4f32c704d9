import { createLogger } from './logger.js';
import { LogCapture } from './log-capture.js';
import { PinoNestLogger } from './nest-logger.service.js';
import { PinoAuditLog } from './pino-audit.log.js';

function capture(level: 'info' | 'debug' = 'info') {
  const logs = new LogCapture();
  return { logs, logger: createLogger({ level, format: 'json' }, { app: 'test', destination: logs }) };
}

describe('the pino logger', () => {
  it('censors credentials wherever a header set, a form or a token object would put them', () => {
    const { logs, logger } = capture();
    logger.info(
      {
        req: { headers: { authorization: 'Bearer tsr_at_abc', cookie: 'tessera_session=tsr_ss_abc' } },
        headers: { authorization: 'Basic abc', 'set-cookie': 'x=y' },
        body: { password: 'hunter22', client_secret: 'tsr_cs_abc', refresh_token: 'tsr_rt_abc', token: 'tsr_at_def' },
        password: 'hunter23',
      },
      'careless',
    );
    expect(logs.raw[0]).not.toMatch(/tsr_|hunter|Basic abc|x=y/);
    expect(logs.lines[0]).toMatchObject({ req: { headers: { authorization: '[redacted]', cookie: '[redacted]' } }, password: '[redacted]' });
  });
});

describe('PinoNestLogger', () => {
  it("writes Nest's messages with their context, its start-up narration at debug, errors with their stack", () => {
    const { logs, logger } = capture('debug');
    const nest = new PinoNestLogger(logger);
    nest.log('Mapped {/oauth2/token, POST} route', 'RouterExplorer');
    nest.log('listening', 'auth-server');
    nest.warn('careful', 'TokenGuard');
    nest.error('server_error: boom', 'Error: boom\n    at x (y.js:1:1)', 'OAuth');
    nest.error('plain', 'Pages');
    expect(logs.lines.map(({ level, context, msg, stack }) => ({ level, context, msg, stack }))).toEqual([
      { level: 'debug', context: 'RouterExplorer', msg: 'Mapped {/oauth2/token, POST} route', stack: undefined },
      { level: 'info', context: 'auth-server', msg: 'listening', stack: undefined },
      { level: 'warn', context: 'TokenGuard', msg: 'careful', stack: undefined },
      { level: 'error', context: 'OAuth', msg: 'server_error: boom', stack: 'Error: boom\n    at x (y.js:1:1)' },
      { level: 'error', context: 'Pages', msg: 'plain', stack: undefined },
    ]);
  });

  it('drops the narration at the default level', () => {
    const { logs, logger } = capture();
    new PinoNestLogger(logger).log('AppModule dependencies initialized', 'InstanceLoader');
    expect(logs.lines).toEqual([]);
  });
});

describe('PinoAuditLog', () => {
  it('writes an event as a line of its own, its fields in snake_case, without undefined ones', () => {
    const { logs, logger } = capture();
    new PinoAuditLog(logger).record({ event: 'sign_in.failed', address: '203.0.113.9', userId: undefined });
    new PinoAuditLog(logger).record({ event: 'refresh_token.reused', clientId: 'c1', grantId: 'g1' });
    expect(logs.lines.map(({ time: _time, ...line }) => line)).toEqual([
      { level: 'info', app: 'test', audit: true, event: 'sign_in.failed', address: '203.0.113.9', msg: 'sign_in.failed' },
      { level: 'info', app: 'test', audit: true, event: 'refresh_token.reused', client_id: 'c1', grant_id: 'g1', msg: 'refresh_token.reused' },
    ]);
  });
});
