/** Probes every `everyMs` until `done`; returns the last value and how long it took, or fails with the last value seen. */
export async function waitFor<T>(what: string, probe: () => Promise<T>, done: (value: T) => boolean, withinMs: number, everyMs = 20) {
  const start = performance.now();
  for (;;) {
    const value = await probe();
    const elapsed = performance.now() - start;
    if (done(value)) return { value, elapsed };
    if (elapsed > withinMs) throw new Error(`${what}: not within ${withinMs} ms; last: ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
