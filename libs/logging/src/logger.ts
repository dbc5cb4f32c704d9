import { pino, type DestinationStream, type Logger } from 'pino';
import pretty from 'pino-pretty';
import type { LoggingConfig } from '@tessera/config';
import { BatchedDestination } from './batched-destination.js';

export type { Logger } from 'pino';

/**
 * Where a value could carry a credential if something ever logged a request, a header set or a form: censored.
 * The first defence is not to log such values at all (the request line names the route pattern, never the URL,
 * and no line carries a header or a body); these paths catch what slips through.
 */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["proxy-authorization"]',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers.cookie',
  'headers["set-cookie"]',
  'authorization',
  'cookie',
  'password',
  'client_secret',
  'clientSecret',
  'access_token',
  'accessToken',
  'refresh_token',
  'refreshToken',
  'code_verifier',
  'token',
  'registration_access_token',
  'initial_access_token',
  '*.password',
  '*.client_secret',
  '*.clientSecret',
  '*.access_token',
  '*.refresh_token',
  '*.token',
  '*.authorization',
  '*.cookie',
];

export interface LoggerOptions {
  /** Which app writes (the `app` field of every line). */
  app: string;
  /** Where lines go: by default stdout (tests pass a capture). */
  destination?: DestinationStream;
  /** Whether the output is a terminal: decides the format when TESSERA_LOG_FORMAT is unset. Default: whether `fd` is. */
  terminal?: boolean;
  /** Standard output (1, the servers) or standard error (2, the CLI, whose standard output is its answer). Default 1. */
  fd?: 1 | 2;
  /**
   * JSON lines written in batches, at most 10 ms after the first (BatchedDestination), instead of one write each. For a
   * process that exits through `process.exit` on a signal (the auth server), so that a normal stop loses no line.
   */
  batched?: boolean;
}

/** The one pino logger of a server process: JSON lines, or pretty in a terminal; Nest, requests and audit events all write to it. */
export function createLogger(config: LoggingConfig, options: LoggerOptions): Logger {
  const fd = options.fd ?? 1;
  const terminal = options.terminal ?? (fd === 1 ? process.stdout : process.stderr).isTTY === true;
  const format = config.format ?? (terminal ? 'pretty' : 'json');
  const destination =
    options.destination ??
    (format === 'pretty'
      ? pretty({ destination: fd, colorize: terminal, sync: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,app,context,method,route,status,ms', messageFormat: prettyMessage, singleLine: true })
      : options.batched
        ? new BatchedDestination(pino.destination({ dest: fd, sync: true }))
        : pino.destination({ dest: fd, sync: true }));
  return pino(
    {
      level: config.level,
      base: { app: options.app },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
}

/** A pretty line's message: `context: msg`, and a request line as `POST /oauth2/token 200 3.1 ms` (its other fields follow). */
function prettyMessage(log: Record<string, unknown>, messageKey: string): string {
  if (log[messageKey] === 'request' && log.route !== undefined) return `${String(log.method)} ${String(log.route)} ${String(log.status)} ${String(log.ms)} ms`;
  return log.context === undefined ? String(log[messageKey]) : `${String(log.context)}: ${String(log[messageKey])}`;
}
