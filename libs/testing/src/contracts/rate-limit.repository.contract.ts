import type { ContractPorts, MakePorts } from './contract-ports.js';

export function rateLimitRepositoryContract(name: string, makePorts: MakePorts<'rateLimits'>): void {
  describe(`RateLimitRepository (${name})`, () => {
    let counts: ContractPorts['rateLimits'];
    const window = new Date('2027-01-01T00:01:00Z');
    const next = new Date('2027-01-01T00:02:00Z');

    beforeEach(async () => {
      ({ rateLimits: counts } = await makePorts());
    });

    it('adds hits per key and window, and returns every given key’s total', async () => {
      expect(await counts.add(window, new Map([['token:client:a', 3], ['token:address:127.0.0.1', 1]]))).toEqual(
        new Map([['token:client:a', 3], ['token:address:127.0.0.1', 1]]),
      );
      expect(await counts.add(window, new Map([['token:client:a', 2]]))).toEqual(new Map([['token:client:a', 5]]));
      expect(await counts.add(next, new Map([['token:client:a', 1]]))).toEqual(new Map([['token:client:a', 1]]));
      expect(await counts.add(window, new Map())).toEqual(new Map());
    });

    it('counts every concurrent caller’s hits', async () => {
      const keys = ['k1', 'k2', 'k3'];
      await Promise.all(
        Array.from({ length: 10 }, (_, i) => counts.add(window, new Map((i % 2 ? keys : [...keys].reverse()).map((k) => [k, 1])))),
      );
      expect(await counts.add(window, new Map(keys.map((k) => [k, 0])))).toEqual(new Map(keys.map((k) => [k, 10])));
    });

    it('purges the windows that started before a time', async () => {
      await counts.add(window, new Map([['a', 1], ['b', 1]]));
      await counts.add(next, new Map([['a', 1]]));
      expect(await counts.purgeBefore(next)).toBe(2);
      expect(await counts.add(window, new Map([['a', 1]]))).toEqual(new Map([['a', 1]]));
      expect(await counts.add(next, new Map([['a', 1]]))).toEqual(new Map([['a', 2]]));
    });
  });
}
