/** A pino destination that keeps every line, parsed: what tests read instead of stdout. */
export class LogCapture {
  readonly lines: Record<string, unknown>[] = [];
  readonly raw: string[] = [];

  write(chunk: string): void {
    for (const line of chunk.split('\n')) {
      if (line === '') continue;
      this.raw.push(line);
      this.lines.push(JSON.parse(line) as Record<string, unknown>);
    }
  }

  /** The lines whose fields include all of `fields`. */
  matching(fields: Record<string, unknown>): Record<string, unknown>[] {
    return this.lines.filter((line) => Object.entries(fields).every(([k, v]) => line[k] === v));
  }

  clear(): void {
    this.lines.length = 0;
    this.raw.length = 0;
  }
}
