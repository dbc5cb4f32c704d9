/** Where a command writes: results to `out`, everything else to `err`. */
export interface CliIo {
  out: { write(text: string): unknown };
  err: { write(text: string): unknown };
  /** Standard input, for secrets that should not appear on the command line. */
  in?: { isTTY?: boolean; readAll(): Promise<string> };
}

/** A failure to report in one line, without a stack trace. Exit code 1. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** Wrong command line: exit code 2, with a pointer to --help. */
export class UsageError extends CliError {
  constructor(
    message: string,
    readonly usage: string,
  ) {
    super(message, 2);
    this.name = 'UsageError';
  }
}

export function printJson(io: CliIo, value: unknown): void {
  io.out.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Left-aligned columns, for humans. */
export function printTable(io: CliIo, header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]))).join('  ');
  io.out.write(`${[line(header), ...rows.map(line)].join('\n')}\n`);
}
