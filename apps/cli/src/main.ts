// The operator CLI. Run it through `npm run cli -- <command>` (scripts/cli.mjs),
// which builds it when needed and provides the database.
import 'reflect-metadata';
import { runCli } from './cli.js';

const input = {
  isTTY: process.stdin.isTTY,
  async readAll(): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  },
};

process.exitCode = await runCli(process.argv.slice(2), { out: process.stdout, err: process.stderr, in: input });
