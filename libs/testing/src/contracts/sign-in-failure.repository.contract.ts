import type { ContractPorts, MakePorts } from './contract-ports.js';

/** The behaviour every SignInFailureRepository shares; `makePorts` returns empty stores. */
export function signInFailureRepositoryContract(name: string, makePorts: MakePorts<'signInFailures'>): void {
  describe(`${name}: SignInFailureRepository contract`, () => {
    let failures: ContractPorts['signInFailures'];
    const [alice, bob, address] = ['user:alice', 'user:bob', 'ip:192.0.2.1'];
    const t = (minute: number) => new Date(Date.UTC(2026, 0, 1, 0, minute, 0, 250));
    /** Records one failure under each key at `at`, far from any limit. */
    const record = async (keys: string[], at: Date) => {
      const r = await failures.reserve(keys.map((key) => ({ key, limit: 1000 })), t(0), at);
      if (!r.reserved) throw new Error('not reserved');
      return r;
    };
    beforeEach(async () => {
      ({ signInFailures: failures } = await makePorts());
    });

    it('gives, for each key asked, its failures later than `since`, oldest first; keys without any are absent', async () => {
      await record([alice, address], t(3));
      await record([alice, address], t(1));
      await record([alice], t(2));
      await record([bob], t(4));
      expect(await failures.since([alice, address, 'user:nobody'], t(0))).toEqual(
        new Map([
          [alice, [t(1), t(2), t(3)]],
          [address, [t(1), t(3)]],
        ]),
      );
      expect(await failures.since([alice, address], t(1))).toEqual(
        new Map([
          [alice, [t(2), t(3)]],
          [address, [t(3)]],
        ]),
      );
      expect(await failures.since([bob], t(4))).toEqual(new Map());
      expect(await failures.since([], t(0))).toEqual(new Map());
    });

    it('keeps repeated failures at the same instant', async () => {
      await record([alice], t(1));
      await record([alice], t(1));
      expect(await failures.since([alice], t(0))).toEqual(new Map([[alice, [t(1), t(1)]]]));
    });

    it('reserves while every key is under its limit within the window, then records nothing and gives the failures', async () => {
      await record([alice], t(1)); // outside the window below
      await record([alice, address], t(3));
      const limits = [
        { key: alice, limit: 2 },
        { key: address, limit: 5 },
      ];
      expect(await failures.reserve(limits, t(2), t(4))).toEqual({ reserved: true, ids: [expect.any(String), expect.any(String)] });
      expect(await failures.reserve(limits, t(2), t(5))).toEqual({
        reserved: false,
        failures: new Map([
          [alice, [t(3), t(4)]],
          [address, [t(3), t(4)]],
        ]),
      });
      expect(await failures.since([alice, address], t(0))).toEqual(
        new Map([
          [alice, [t(1), t(3), t(4)]],
          [address, [t(3), t(4)]],
        ]),
      );
      // The address alone is under its limit, but an attempt needs every key to be.
      expect((await failures.reserve([{ key: address, limit: 5 }], t(2), t(5))).reserved).toBe(true);
    });

    it('reserves atomically: of concurrent attempts under one key, only as many as its limit are recorded', async () => {
      const limits = [
        { key: alice, limit: 10 },
        { key: address, limit: 50 },
      ];
      const results = await Promise.all(Array.from({ length: 16 }, (_, i) => failures.reserve(limits, t(0), new Date(t(1).getTime() + i))));
      expect(results.filter((r) => r.reserved)).toHaveLength(10);
      for (const r of results) if (!r.reserved) expect(r.failures.get(alice)).toHaveLength(10);
      const recorded = await failures.since([alice, address], t(0));
      expect([recorded.get(alice)?.length, recorded.get(address)?.length]).toEqual([10, 10]);
    });

    it('releases what a reservation recorded, and nothing else', async () => {
      await record([alice, address], t(1));
      const second = await record([alice, address], t(2));
      await record([bob, address], t(2));
      await failures.release(second);
      await failures.release({ ids: [] });
      expect(await failures.since([alice, bob, address], t(0))).toEqual(
        new Map([
          [alice, [t(1)]],
          [bob, [t(2)]],
          [address, [t(1), t(2)]],
        ]),
      );
    });

    it('forgets every failure under the keys cleared, and only those', async () => {
      await record([alice, address], t(1));
      await record([bob], t(2));
      await failures.clear([alice, bob]);
      expect(await failures.since([alice, bob, address], t(0))).toEqual(new Map([[address, [t(1)]]]));
    });

    it('purges the failures at or before an instant and counts them', async () => {
      await record([alice, address], t(1));
      await record([alice], t(2));
      await record([alice], t(3));
      expect(await failures.purgeBefore(t(2))).toBe(3);
      expect(await failures.purgeBefore(t(2))).toBe(0);
      expect(await failures.since([alice, address], t(0))).toEqual(new Map([[alice, [t(3)]]]));
    });
  });
}
