import { RevocationLogFence } from './revocation-log.fence.js';

/** A read the test answers when it chooses. */
function controlledReads() {
  const reads: { answer: (seq: string) => void; fail: (error: Error) => void }[] = [];
  const read = () =>
    new Promise<string>((resolve, reject) => {
      reads.push({ answer: resolve, fail: reject });
    });
  return { reads, read };
}
const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

describe('RevocationLogFence', () => {
  it('gives the calls of one event-loop turn one read, started after all of them', async () => {
    const { reads, read } = controlledReads();
    const fence = new RevocationLogFence(read);
    const answers = [fence.latest(), fence.latest(), fence.latest()];
    expect(reads).toHaveLength(0); // not started yet: the turn's later calls may still join
    await nextTurn();
    expect(reads).toHaveLength(1);
    reads[0].answer('7');
    expect(await Promise.all(answers)).toEqual(['7', '7', '7']);
  });

  it('never joins a read that has started: a call made meanwhile waits for the next one', async () => {
    const { reads, read } = controlledReads();
    const fence = new RevocationLogFence(read);
    const first = fence.latest();
    await nextTurn();
    expect(reads).toHaveLength(1);
    const second = fence.latest();
    const third = fence.latest();
    await nextTurn();
    expect(reads).toHaveLength(1); // one read at a time
    reads[0].answer('7');
    expect(await first).toBe('7');
    await nextTurn();
    expect(reads).toHaveLength(2);
    reads[1].answer('9');
    expect(await Promise.all([second, third])).toEqual(['9', '9']);
  });

  it('runs up to maxInFlight reads at once', async () => {
    const { reads, read } = controlledReads();
    const fence = new RevocationLogFence(read, 2);
    const first = fence.latest();
    await nextTurn();
    const second = fence.latest();
    await nextTurn();
    expect(reads).toHaveLength(2);
    reads[1].answer('3');
    reads[0].answer('2');
    expect([await first, await second]).toEqual(['2', '3']);
  });

  it('fails the callers of a failed read only; the next call reads again', async () => {
    const { reads, read } = controlledReads();
    const fence = new RevocationLogFence(read);
    const failed = fence.latest();
    await nextTurn();
    reads[0].fail(new Error('database away'));
    await expect(failed).rejects.toThrow('database away');
    const next = fence.latest();
    await nextTurn();
    reads[1].answer('4');
    expect(await next).toBe('4');
  });
});
