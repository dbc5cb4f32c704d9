// The operator CLI. Run it through `npm run cli -- <command>` (scripts/cli.mjs),
// which builds it when needed and provides the database.
import 'reflect-metadata';
import { runCli } from './cli.js';

process.exitCode = await runCli(process.argv.slice(2), { out: process.stdout, err: process.stderr });
