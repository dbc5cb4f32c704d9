/**
 * The labelled children of a metric (`counter.labels(a, b, c)`), each created on first use and kept, so that
 * counting an event on the hot path is three map lookups and no allocation. Label values must come from small,
 * fixed sets (never a client id, a path, or anything else a caller chooses).
 */
export class ChildCache<C> {
  private readonly children = new Map<string, Map<string, Map<string, C>>>();

  constructor(private readonly create: (a: string, b: string, c: string) => C) {}

  get(a: string, b = '', c = ''): C {
    let byB = this.children.get(a);
    if (!byB) this.children.set(a, (byB = new Map()));
    let byC = byB.get(b);
    if (!byC) byB.set(b, (byC = new Map()));
    let child = byC.get(c);
    if (!child) byC.set(c, (child = this.create(a, b, c)));
    return child;
  }
}
