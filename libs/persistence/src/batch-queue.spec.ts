import { BatchQueue } from './batch-queue.js';

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

describe('BatchQueue', () => {
  it('runs a lone call at once, and what arrives meanwhile as the next batch, each caller getting its own result', async () => {
    const { batches, finish, run } = controlledRun();
    const queue = new BatchQueue(run);
    const first = queue.push(1);
    expect(batches).toEqual([[1]]);
    const later = [queue.push(2), queue.push(3), queue.push(4)];
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
    const queue = new BatchQueue(run);
    const first = queue.push(1);
    const second = [queue.push(2), queue.push(3)];
    finish[0](new Error('outage'));
    await expect(first).rejects.toThrow('outage');
    await settle();
    finish[1]();
    expect(await Promise.all(second)).toEqual(['done 2', 'done 3']);
    expect(batches).toEqual([[1], [2, 3]]);
  });

  it('caps a batch at maxBatch', async () => {
    const { batches, finish, run } = controlledRun();
    const queue = new BatchQueue(run, 2);
    const all = [1, 2, 3, 4].map((n) => queue.push(n));
    for (let i = 0; i < 3; i++) {
      await settle();
      finish[i]();
    }
    expect(await Promise.all(all)).toEqual(['done 1', 'done 2', 'done 3', 'done 4']);
    expect(batches).toEqual([[1], [2, 3], [4]]);
  });
});
