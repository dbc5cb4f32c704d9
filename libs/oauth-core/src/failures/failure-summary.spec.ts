import { describeFailureSummary, FailureSummary, type FailureSummaryLine } from './failure-summary.js';

function summary(intervalMs = 10_000) {
  let now = 1_000_000;
  const lines: FailureSummaryLine[] = [];
  const s = new FailureSummary((line) => lines.push(line), { intervalMs, now: () => now, timer: false });
  return { s, lines, advance: (ms: number) => (now += ms) };
}

describe('FailureSummary', () => {
  it('writes the first failure in full, then one count per interval, then the recovery', () => {
    const { s, lines, advance } = summary();
    s.failure('connection refused');
    expect(lines).toEqual([{ kind: 'first', message: 'connection refused' }]);
    for (let i = 0; i < 500; i++) {
      advance(10);
      s.failure(`connection refused ${i}`);
    }
    // 5 s: still within the first interval, nothing more written.
    expect(lines).toHaveLength(1);
    for (let i = 0; i < 600; i++) {
      advance(10);
      s.failure('timeout');
    }
    // 11 s: one count line, for every failure since the first.
    expect(lines).toEqual([
      { kind: 'first', message: 'connection refused' },
      { kind: 'repeated', count: 1000, message: 'timeout', failingForMs: 10_000 },
    ]);
    advance(2_000);
    s.failure('timeout');
    s.success();
    expect(lines.slice(2)).toEqual([{ kind: 'recovered', count: 101, total: 1102, failingForMs: 13_000 }]);
  });

  it('writes an interval\'s count when flushed after it, even with no later failure', () => {
    const { s, lines, advance } = summary();
    s.failure('down');
    s.failure('down');
    s.flush();
    expect(lines).toHaveLength(1);
    advance(10_000);
    s.flush();
    expect(lines[1]).toEqual({ kind: 'repeated', count: 1, message: 'down', failingForMs: 10_000 });
    advance(10_000);
    s.flush(); // nothing new: nothing written
    expect(lines).toHaveLength(2);
  });

  it('writes nothing for successes without failures, and starts afresh after a recovery', () => {
    const { s, lines, advance } = summary();
    s.success();
    expect(lines).toEqual([]);
    s.failure('a');
    s.success();
    advance(1);
    s.failure('b');
    expect(lines).toEqual([
      { kind: 'first', message: 'a' },
      { kind: 'recovered', count: 0, total: 1, failingForMs: 0 },
      { kind: 'first', message: 'b' },
    ]);
    expect(s.failing).toBe(true);
  });

  it('words its lines for a logger', () => {
    expect(describeFailureSummary('database', { kind: 'first', message: 'ECONNREFUSED' })).toBe('database: ECONNREFUSED');
    expect(describeFailureSummary('database', { kind: 'repeated', count: 7, message: 'x', failingForMs: 20_400 })).toBe(
      'database: 7 more failure(s), failing for 20 s (latest: x)',
    );
    expect(describeFailureSummary('database', { kind: 'recovered', count: 0, total: 8, failingForMs: 31_000 })).toBe('database: recovered after 31 s and 8 failure(s)');
  });
});
