import { GroupCommit } from './group-commit.js';

/** A write the test finishes by hand, recording the rows of every call. */
function manualWrites() {
  const calls: { rows: number[]; finish: () => void; fail: (e: unknown) => void }[] = [];
  const write = (rows: number[]) =>
    new Promise<void>((resolve, reject) => {
      calls.push({ rows, finish: resolve, fail: reject });
    });
  return { calls, write };
}
const settled = () => new Promise((r) => setImmediate(r));

describe('GroupCommit', () => {
  it('tells its observer the rows of each statement as it starts', async () => {
    const { calls, write } = manualWrites();
    const observed: number[] = [];
    const commit = new GroupCommit(write, { maxRows: 3, maxInFlight: 1, observe: (rows) => observed.push(rows) });
    const adds = [1, 2, 3, 4, 5].map((n) => commit.add(n));
    expect(observed).toEqual([1]);
    calls[0].finish();
    await settled();
    calls[1].finish();
    await settled();
    calls[2].finish();
    await Promise.all(adds);
    expect(observed).toEqual([1, 3, 1]);
  });

  it('writes a lone row at once, alone, with no timer', async () => {
    const { calls, write } = manualWrites();
    const commit = new GroupCommit(write, { maxRows: 10, maxInFlight: 1 });
    const done = commit.add(1);
    expect(calls.map((c) => c.rows)).toEqual([[1]]);
    calls[0].finish();
    await expect(done).resolves.toBeUndefined();
  });

  it('queues rows while a write runs and sends them in the next one, at most maxRows each; a caller resolves only once its own write has', async () => {
    const { calls, write } = manualWrites();
    const commit = new GroupCommit(write, { maxRows: 3, maxInFlight: 1 });
    const resolved: number[] = [];
    const adds = [1, 2, 3, 4, 5].map((n) => commit.add(n).then(() => resolved.push(n)));
    expect(calls.map((c) => c.rows)).toEqual([[1]]);
    calls[0].finish();
    await settled();
    expect(resolved).toEqual([1]);
    expect(calls.map((c) => c.rows)).toEqual([[1], [2, 3, 4]]);
    calls[1].finish();
    await settled();
    expect(resolved).toEqual([1, 2, 3, 4]);
    expect(calls.map((c) => c.rows)).toEqual([[1], [2, 3, 4], [5]]);
    calls[2].finish();
    await Promise.all(adds);
    expect(resolved).toEqual([1, 2, 3, 4, 5]);
  });

  it('runs up to maxInFlight writes at once', () => {
    const { calls, write } = manualWrites();
    const commit = new GroupCommit(write, { maxRows: 10, maxInFlight: 2 });
    for (const n of [1, 2, 3, 4]) void commit.add(n);
    expect(calls.map((c) => c.rows)).toEqual([[1], [2]]);
  });

  it('gives every caller of a failed write its error, and no one else', async () => {
    const { calls, write } = manualWrites();
    const commit = new GroupCommit(write, { maxRows: 10, maxInFlight: 1 });
    const first = commit.add(1);
    const second = commit.add(2);
    const third = commit.add(3);
    calls[0].finish();
    await first;
    const failure = new Error('boom');
    calls[1].fail(failure);
    await expect(second).rejects.toBe(failure);
    await expect(third).rejects.toBe(failure);
    const later = commit.add(4);
    expect(calls.at(-1)!.rows).toEqual([4]);
    calls.at(-1)!.finish();
    await expect(later).resolves.toBeUndefined();
  });
});

/** A run whose batches are recorded and finish only when the test says so. */
function controlledRun() {
  const batches: number[][] = [];
  const finish: ((fail?: Error) => void)[] = [];
  const run = (inputs: number[]) =>
    new Promise<string[]>((resolve, reject) => {
      batches.push(inputs);
      finish.push((fail) => (fail ? reject(fail) : resolve(inputs.map((n) => `done ${n}`))));
    });
  return { batches, finish, run };
}
const settle = () => new Promise((r) => setImmediate(r));

describe('GroupCommit, one batch at a time, with a result per row', () => {
  it('runs a lone call at once, and what arrives meanwhile as the next batch, each caller getting its own result', async () => {
    const { batches, finish, run } = controlledRun();
    const queue = new GroupCommit(run, { maxRows: 500, maxInFlight: 1 });
    const first = queue.add(1);
    expect(batches).toEqual([[1]]);
    const later = [queue.add(2), queue.add(3), queue.add(4)];
    await settle();
    expect(batches).toEqual([[1]]); // one batch at a time
    finish[0]();
    expect(await first).toBe('done 1');
    await settle();
    expect(batches).toEqual([[1], [2, 3, 4]]);
    finish[1]();
    expect(await Promise.all(later)).toEqual(['done 2', 'done 3', 'done 4']);
  });

  it('gives a failed batch its error, and goes on with the next', async () => {
    const { batches, finish, run } = controlledRun();
    const queue = new GroupCommit(run, { maxRows: 500, maxInFlight: 1 });
    const first = queue.add(1);
    const second = [queue.add(2), queue.add(3)];
    finish[0](new Error('outage'));
    await expect(first).rejects.toThrow('outage');
    await settle();
    finish[1]();
    expect(await Promise.all(second)).toEqual(['done 2', 'done 3']);
    expect(batches).toEqual([[1], [2, 3]]);
  });

  it('caps a batch at maxRows', async () => {
    const { batches, finish, run } = controlledRun();
    const queue = new GroupCommit(run, { maxRows: 2, maxInFlight: 1 });
    const all = [1, 2, 3, 4].map((n) => queue.add(n));
    for (let i = 0; i < 3; i++) {
      await settle();
      finish[i]();
    }
    expect(await Promise.all(all)).toEqual(['done 1', 'done 2', 'done 3', 'done 4']);
    expect(batches).toEqual([[1], [2, 3], [4]]);
  });
});
