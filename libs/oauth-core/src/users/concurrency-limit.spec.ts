import { ConcurrencyLimit } from './concurrency-limit.js';

describe('ConcurrencyLimit', () => {
  it('lets maxRunning in at once, queues maxWaiting in order, and refuses the rest at once', async () => {
    const limit = new ConcurrencyLimit(2, 1);
    const a = await limit.enter();
    const b = await limit.enter();
    const waiting = limit.enter();
    expect(limit.enter()).toBeNull();
    expect([limit.running, limit.waiting]).toEqual([2, 1]);
    let c: (() => void) | undefined;
    void waiting!.then((leave) => (c = leave));
    await Promise.resolve();
    expect(c).toBeUndefined();
    a!();
    a!(); // leaving twice frees one slot only
    await waiting;
    expect(c).toBeDefined();
    expect([limit.running, limit.waiting]).toEqual([2, 0]);
    expect(limit.enter()).not.toBeNull(); // the queue has room again
    b!();
    c!();
  });

  it('frees its slots when the tasks leave', async () => {
    const limit = new ConcurrencyLimit(1, 0);
    const leave = await limit.enter();
    expect(limit.enter()).toBeNull();
    leave!();
    expect(limit.running).toBe(0);
    expect(limit.enter()).not.toBeNull();
  });

  it('wants at least one slot and no negative queue', () => {
    expect(() => new ConcurrencyLimit(0, 1)).toThrow(RangeError);
    expect(() => new ConcurrencyLimit(1, -1)).toThrow(RangeError);
  });
});
