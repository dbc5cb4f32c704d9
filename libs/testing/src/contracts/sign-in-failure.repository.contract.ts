import type { ContractPorts, MakePorts } from './contract-ports.js';

/** The behaviour every SignInFailureRepository shares; `makePorts` returns empty stores. */
export function signInFailureRepositoryContract(name: string, makePorts: MakePorts<'signInFailures'>): void {
  describe(`${name}: SignInFailureRepository contract`, () => {
    let failures: ContractPorts['signInFailures'];
    const [alice, bob, address] = ['user:alice', 'user:bob', 'ip:192.0.2.1'];
    const t = (minute: number) => new Date(Date.UTC(2026, 0, 1, 0, minute, 0, 250));
    beforeEach(async () => {
      ({ signInFailures: failures } = await makePorts());
    });

    it('gives, for each key asked, its failures later than `since`, oldest first; keys without any are absent', async () => {
      await failures.record([alice, address], t(3));
      await failures.record([alice, address], t(1));
      await failures.record([alice], t(2));
      await failures.record([bob], t(4));
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
      await failures.record([alice], t(1));
      await failures.record([alice], t(1));
      expect(await failures.since([alice], t(0))).toEqual(new Map([[alice, [t(1), t(1)]]]));
    });

    it('forgets every failure under the keys cleared, and only those', async () => {
      await failures.record([alice, address], t(1));
      await failures.record([bob], t(2));
      await failures.clear([alice, bob]);
      expect(await failures.since([alice, bob, address], t(0))).toEqual(new Map([[address, [t(1)]]]));
    });

    it('purges the failures at or before an instant and counts them', async () => {
      await failures.record([alice, address], t(1));
      await failures.record([alice], t(2));
      await failures.record([alice], t(3));
      expect(await failures.purgeBefore(t(2))).toBe(3);
      expect(await failures.purgeBefore(t(2))).toBe(0);
      expect(await failures.since([alice, address], t(0))).toEqual(new Map([[alice, [t(3)]]]));
    });
  });
}
