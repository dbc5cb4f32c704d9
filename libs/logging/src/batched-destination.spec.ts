import { BatchedDestination } from './batched-destination.js';
import { createLogger } from './logger.js';
import { PinoAuditLog } from './pino-audit.log.js';

/** What reached the writer, one entry per write. */
function writer() {
  const writes: string[] = [];
  return { writes, out: { write: (data: string) => void writes.push(data) } };
}

/** Fires after a destination's 1 ms delay, set before it: Node runs timers of one duration in the order they were set. */
const afterDelay = () => new Promise<void>((done) => setTimeout(done, 1));

describe('BatchedDestination', () => {
  it('writes the lines logged within its delay together, in order, once the delay is up', async () => {
    const { writes, out } = writer();
    const destination = new BatchedDestination(out, 1);
    destination.write('a\n');
    destination.write('b\n');
    destination.write('c\n');
    expect(writes).toEqual([]);
    await afterDelay();
    expect(writes).toEqual(['a\nb\nc\n']);
    destination.write('d\n');
    await afterDelay();
    expect(writes).toEqual(['a\nb\nc\n', 'd\n']);
  });

  it('writes at once past 16 KiB pending', () => {
    const { writes, out } = writer();
    const destination = new BatchedDestination(out);
    const line = `${'x'.repeat(1023)}\n`;
    for (let i = 0; i < 15; i++) destination.write(line);
    expect(writes).toEqual([]);
    destination.write(line);
    expect(writes).toEqual([line.repeat(16)]);
  });

  it('writes what is pending on flushSync and flush, and nothing when nothing is', () => {
    const { writes, out } = writer();
    const destination = new BatchedDestination(out);
    destination.write('a\n');
    destination.flushSync();
    expect(writes).toEqual(['a\n']);
    destination.write('b\n');
    let called = 0;
    destination.flush(() => called++);
    expect(writes).toEqual(['a\n', 'b\n']);
    expect(called).toBe(1);
    destination.flushSync();
    expect(writes).toHaveLength(2);
  });

  it('writes an audit line at once, after the lines logged before it; a fatal one too', () => {
    const { writes, out } = writer();
    const logger = createLogger({ level: 'info', format: 'json' }, { app: 'test', destination: new BatchedDestination(out) });
    logger.info('before');
    new PinoAuditLog(logger).record({ event: 'client.disabled', clientId: 'c1', via: 'operator' });
    expect(writes).toHaveLength(1);
    expect(writes[0].trimEnd().split('\n').map((line) => (JSON.parse(line) as { msg: string }).msg)).toEqual(['before', 'client.disabled']);
    logger.info('between');
    logger.fatal('could not start');
    expect(writes).toHaveLength(2);
    expect(writes[1].trimEnd().split('\n').map((line) => (JSON.parse(line) as { msg: string }).msg)).toEqual(['between', 'could not start']);
  });
});
