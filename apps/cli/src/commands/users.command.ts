// Operator commands on users (the people who sign in). Passwords are hashed with scrypt; a disabled
// user's tokens stop working at once (issued-before marks for the subject, in the same transaction),
// and so do their tokens at a client whose consent is revoked.
import { OAuthError, type User, type UserDirectory } from '@tessera/oauth-core';
import type { CliContext } from '../cli-context.js';
import { CliError, printJson, printTable, type CliIo } from '../cli-io.js';
import { JSON_OPTION, type Command, type OptionValues } from '../command.js';

/** The servers' UserDirectory: the same password hasher, on the same storage. */
function directory(ctx: CliContext): UserDirectory {
  return ctx.admin.users;
}

function explain(e: unknown): never {
  if (e instanceof OAuthError && e.code === 'invalid_request') throw new CliError(e.description);
  throw e;
}

function userJson(u: User): Record<string, unknown> {
  return { id: u.id, username: u.username, created_at: u.createdAt.toISOString(), disabled_at: u.disabledAt?.toISOString() ?? null };
}

/** `--password PW`, or `--password -` / no option with standard input not a terminal: the first line of standard input. */
async function passwordFrom(values: OptionValues, io: CliIo): Promise<string> {
  const given = values.password as string | undefined;
  if (given !== undefined && given !== '-') return given;
  if (!io.in || (given === undefined && io.in.isTTY)) {
    throw new CliError('give the password with --password PW, or on standard input with --password - (echo "$PW" | npm run -s cli -- ...)', 2);
  }
  const text = await io.in.readAll();
  const password = text.replace(/\r?\n$/, '');
  if (password.includes('\n')) throw new CliError('standard input must hold the password on one line');
  return password;
}

const PASSWORD_DETAILS = [
  '--password PW          the password (8 to 1024 characters); visible in the process list and shell history,',
  '                       so prefer --password - and standard input, e.g. printf %s "$PW" | npm run -s cli -- ...',
  '--password -           read it from standard input (also the default when standard input is not a terminal)',
];

const create: Command = {
  name: 'users create',
  synopsis: '<username> [--password PW|-] [--json]',
  summary: 'create a user who can sign in (username unique whatever its case)',
  details: [...PASSWORD_DETAILS, '--json                 print the user as JSON'],
  options: { password: { type: 'string' }, ...JSON_OPTION },
  positionals: ['username'],
  async run(ctx, { values, args: [username] }, io) {
    const password = await passwordFrom(values, io);
    const user = await directory(ctx).create(username, password).catch(explain);
    if (values.json) return printJson(io, userJson(user));
    io.out.write(`Created user ${user.username} (id ${user.id}).\n`);
  },
};

const list: Command = {
  name: 'users list',
  synopsis: '[--json]',
  summary: 'list the users',
  options: { ...JSON_OPTION },
  async run(ctx, { values }, io) {
    const users = await directory(ctx).list();
    if (values.json) return printJson(io, users.map(userJson));
    if (users.length === 0) {
      io.out.write('No users yet. Create one with `users create <username> --password -`.\n');
      return;
    }
    printTable(
      io,
      ['USERNAME', 'ID', 'STATUS', 'CREATED'],
      users.map((u) => [u.username, u.id, u.disabledAt ? 'disabled' : 'active', u.createdAt.toISOString()]),
    );
  },
};

const disable: Command = {
  name: 'users disable',
  synopsis: '<username> [--json]',
  summary: 'disable a user: they can no longer sign in, and every token issued for them stops working',
  options: { ...JSON_OPTION },
  positionals: ['username'],
  async run(ctx, { values, args: [username] }, io) {
    const { user, wasDisabled } = await directory(ctx).disable(username).catch(explain);
    if (values.json) return printJson(io, userJson(user));
    io.out.write(
      wasDisabled
        ? `User ${user.username} was already disabled (since ${user.disabledAt!.toISOString()}).\n`
        : `Disabled user ${user.username}; their tokens no longer work.\n`,
    );
  },
};

const enable: Command = {
  name: 'users enable',
  synopsis: '<username> [--json]',
  summary: 'enable a disabled user again: they can sign in; tokens revoked when they were disabled stay revoked',
  options: { ...JSON_OPTION },
  positionals: ['username'],
  async run(ctx, { values, args: [username] }, io) {
    const { user, wasEnabled } = await directory(ctx).enable(username).catch(explain);
    if (values.json) return printJson(io, userJson(user));
    io.out.write(wasEnabled ? `User ${user.username} was not disabled.\n` : `Enabled user ${user.username}; tokens revoked while they were disabled stay revoked.\n`);
  },
};

const revokeConsent: Command = {
  name: 'users revoke-consent',
  synopsis: '<username> [--client CLIENT_ID] [--json]',
  summary: "forget a user's consent to a client (or every client) and revoke their tokens there; the next authorization asks again",
  details: [
    '--client CLIENT_ID     only at this client (default: at every client)',
    '--json                 print the user, the client and how many remembered consents were revoked as JSON',
  ],
  options: { client: { type: 'string' }, ...JSON_OPTION },
  positionals: ['username'],
  async run(ctx, { values, args: [username] }, io) {
    const clientId = values.client as string | undefined;
    const { user, consentsRevoked } = await directory(ctx).revokeConsent(username, clientId).catch(explain);
    if (values.json) return printJson(io, { ...userJson(user), client_id: clientId ?? null, consents_revoked: consentsRevoked });
    const where = clientId === undefined ? 'every client' : `client ${clientId}`;
    const forgotten = clientId === undefined ? ` (${consentsRevoked} remembered consent(s))` : consentsRevoked ? '' : ' (no remembered consent)';
    io.out.write(`Revoked ${user.username}'s consent and tokens at ${where}${forgotten}.\n`);
  },
};

const setPassword: Command = {
  name: 'users set-password',
  synopsis: '<username> [--password PW|-]',
  summary: "replace a user's password",
  details: PASSWORD_DETAILS,
  options: { password: { type: 'string' } },
  positionals: ['username'],
  async run(ctx, { values, args: [username] }, io) {
    const password = await passwordFrom(values, io);
    const user = await directory(ctx).setPassword(username, password).catch(explain);
    io.out.write(`New password set for user ${user.username}.\n`);
  },
};

export const userCommands: Command[] = [create, list, disable, enable, revokeConsent, setPassword];
