import type { Command } from '../command.js';

/** Every command migrates first; this one only reports what that did. */
const migrate: Command = {
  name: 'migrate',
  synopsis: '',
  summary: 'apply pending database migrations (every command does this first)',
  options: {},
  async run(ctx, _input, io) {
    io.out.write(ctx.applied.length > 0 ? `Applied ${ctx.applied.length} migration(s).\n` : 'The database schema is up to date.\n');
  },
};

export const migrateCommands: Command[] = [migrate];
