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

/**
 * Output to a reader that has gone (`| head -1`): writing fails with EPIPE. Nothing more is written there, the
 * command finishes what it does (closing the database connection), and the CLI ends quietly: no stack trace.
 */
function quietOnBrokenPipe(stream: NodeJS.WriteStream): { write(text: string): unknown } {
  let broken = false;
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e;
    broken = true;
  });
  return { write: (text: string) => broken || stream.write(text) };
}

const out = quietOnBrokenPipe(process.stdout);
const err = quietOnBrokenPipe(process.stderr);
process.exitCode = await runCli(process.argv.slice(2), { out, err, in: input });
