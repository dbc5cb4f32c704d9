import type { ParseArgsConfig } from 'node:util';
import type { CliContext } from './cli-context.js';
import type { CliIo } from './cli-io.js';

export type OptionValues = Record<string, string | boolean | string[] | undefined>;

export interface CommandInput {
  values: OptionValues;
  /** The positionals named in `Command.positionals`, in order. */
  args: string[];
}

/** One operator command, e.g. `clients create`. */
export interface Command {
  /** The words that select it: `clients create`. */
  name: string;
  /** Arguments after the name, for the usage line. */
  synopsis: string;
  summary: string;
  /** Option lines for `--help`. */
  details?: string[];
  options: NonNullable<ParseArgsConfig['options']>;
  /** Required positional arguments. */
  positionals?: string[];
  /** False for commands that never touch the database. */
  database?: boolean;
  run(ctx: CliContext, input: CommandInput, io: CliIo): Promise<void>;
}

export const JSON_OPTION = { json: { type: 'boolean' } } as const;
