import { parseArgs } from 'node:util';
import { ConfigError } from '@tessera/config';
import { OAuthError } from '@tessera/oauth-core';
import { openContext } from './cli-context.js';
import { CliError, UsageError, type CliIo } from './cli-io.js';
import type { Command, OptionValues } from './command.js';
import { clientCommands } from './commands/clients.command.js';
import { keyCommands } from './commands/keys.command.js';
import { migrateCommands } from './commands/migrate.command.js';
import { userCommands } from './commands/users.command.js';

export const COMMANDS: Command[] = [...clientCommands, ...userCommands, ...keyCommands, ...migrateCommands];

const PROGRAM = 'npm run cli --';

function usageLine(c: Command): string {
  const positionals = c.positionals?.length && !c.synopsis.includes('<') ? ` ${c.positionals.map((p) => `<${p}>`).join(' ')}` : '';
  return `${PROGRAM} ${c.name}${positionals}${c.synopsis ? ` ${c.synopsis}` : ''}`;
}

export function overview(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    `Tessera operator CLI: works on the auth server's database, whether the servers run or not.`,
    '',
    `Usage: ${PROGRAM} <command> [options]`,
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    `Run \`${PROGRAM} <command> --help\` for a command's options. With --json, run \`npm run -s cli -- ...\``,
    '(-s: npm prints no banner), so standard output is the JSON alone.',
    '',
    'Database: DATABASE_URL, or else the embedded PostgreSQL of `npm start` (.tessera/pgdata),',
    'started for the command when it is not running. Pending migrations are applied first.',
    'Settings come from the same variables as the auth server (TESSERA_KEY_ENCRYPTION_KEY,',
    'TESSERA_MAX_ACCESS_TOKEN_TTL, TESSERA_GRANTS, ...): give it the same values. With the embedded',
    'PostgreSQL, the key-encryption key npm start generated (.tessera/key-encryption-key) is used.',
    '',
  ].join('\n');
}

function commandHelp(c: Command): string {
  return [`Usage: ${usageLine(c)}`, '', `${c.summary}.`, ...(c.details ? ['', ...c.details.map((d) => `  ${d}`)] : []), ''].join('\n');
}

/** The command named by the leading words of argv, and the arguments after them. */
function findCommand(argv: string[]): { command: Command; rest: string[] } | null {
  for (const command of COMMANDS) {
    const words = command.name.split(' ');
    if (words.every((w, i) => argv[i] === w)) return { command, rest: argv.slice(words.length) };
  }
  return null;
}

type Options = NonNullable<Command['options']>;

/**
 * Client ids are base64url, so one may start with '-' (and a username may too). For a command that takes
 * positionals, every argument that is not one of its options (nor an option's value) is a positional, even one
 * starting with '-'; and after `--`, everything is. Returned in parseArgs' terms: the options, `--`, the positionals.
 */
function positionalsLast(command: Command, rest: string[], options: Options): string[] {
  if (!command.positionals?.length) return rest;
  const option = (arg: string) => {
    const name = arg.slice(2).split('=')[0];
    if (arg.startsWith('--')) return Object.hasOwn(options, name) ? options[name] : undefined;
    return arg.length === 2 ? Object.values(options).find((o) => o.short === arg[1]) : undefined;
  };
  const flags: string[] = [];
  const positionals: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i];
    if (arg === '--') {
      positionals.push(...rest.slice(i + 1));
      break;
    }
    const known = arg.startsWith('-') && arg !== '-' ? option(arg) : undefined;
    if (!known) {
      positionals.push(arg);
      continue;
    }
    // A string option's value is the next argument (unless given as --name=value), whatever it starts with:
    // joined to it, as parseArgs refuses a separate value that starts with '-'.
    if (known.type === 'string' && !arg.includes('=') && i + 1 < rest.length) {
      const value = rest[++i];
      flags.push(...(arg.startsWith('--') ? [`${arg}=${value}`] : [`${arg}${value}`]));
    } else {
      flags.push(arg);
    }
  }
  return [...flags, '--', ...positionals];
}

function parse(command: Command, rest: string[]): { values: OptionValues; args: string[]; help: boolean } {
  const usage = `Usage: ${usageLine(command)}`;
  const options: Options = { ...command.options, help: { type: 'boolean', short: 'h' } };
  let parsed;
  try {
    parsed = parseArgs({ args: positionalsLast(command, rest, options), options, allowPositionals: true, strict: true });
  } catch (e) {
    // parseArgs appends advice about '--' that does not help here.
    throw new UsageError((e as Error).message.replace(/\. To specify a positional.*$/s, ''), usage);
  }
  const { help, ...values } = parsed.values as OptionValues & { help?: boolean };
  if (help) return { values, args: [], help: true };
  const expected = command.positionals ?? [];
  if (parsed.positionals.length < expected.length) throw new UsageError(`missing <${expected[parsed.positionals.length]}>`, usage);
  if (parsed.positionals.length > expected.length) throw new UsageError(`unexpected argument "${parsed.positionals[expected.length]}"`, usage);
  return { values, args: parsed.positionals, help: false };
}

/** Runs one command line; resolves to the process exit code. */
export async function runCli(argv: string[], io: CliIo, env: Record<string, string | undefined> = process.env): Promise<number> {
  try {
    if (argv.length === 0 || ['help', '--help', '-h'].includes(argv[0])) {
      io.out.write(overview());
      return 0;
    }
    const found = findCommand(argv);
    if (!found) {
      const group = COMMANDS.filter((c) => c.name.startsWith(`${argv[0]} `));
      if (group.length > 0 && (argv.length === 1 || ['--help', '-h'].includes(argv[1]))) {
        io.out.write(`${group.map((c) => `Usage: ${usageLine(c)}\n  ${c.summary}`).join('\n')}\n`);
        return argv.length === 1 ? 2 : 0;
      }
      throw new UsageError(`unknown command "${argv.slice(0, group.length > 0 ? 2 : 1).join(' ')}"`, `Commands: ${COMMANDS.map((c) => c.name).join(', ')}`);
    }
    const { command, rest } = found;
    const input = parse(command, rest);
    if (input.help) {
      io.out.write(commandHelp(command));
      return 0;
    }
    const ctx = await openContext(io, env);
    try {
      await command.run(ctx, input, io);
    } finally {
      await ctx.close();
    }
    return 0;
  } catch (e) {
    return report(e, io);
  }
}

function report(e: unknown, io: CliIo): number {
  if (e instanceof UsageError) {
    io.err.write(`error: ${e.message}\n${e.usage}\nRun \`${PROGRAM} --help\` for all commands.\n`);
    return e.exitCode;
  }
  if (e instanceof CliError) {
    io.err.write(`error: ${e.message}\n`);
    return e.exitCode;
  }
  if (e instanceof ConfigError) {
    io.err.write(`error: ${e.message}\n`);
    return 2;
  }
  if (e instanceof OAuthError) {
    const cause = e.cause instanceof Error ? ` (${e.cause.message})` : '';
    io.err.write(`error: ${e.code}: ${e.description}${cause}\n`);
    return 1;
  }
  io.err.write(`error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  return 1;
}
