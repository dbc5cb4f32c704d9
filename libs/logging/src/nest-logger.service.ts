import type { LoggerService } from '@nestjs/common';
import type { Logger } from 'pino';
import { scrubCredentials } from './error-text.js';

/**
 * Nest's start-up narration (each module loaded, each route mapped, "application started"): debug, so the
 * default level shows none of it.
 */
const CHATTY_CONTEXTS = new Set(['InstanceLoader', 'RoutesResolver', 'RouterExplorer', 'NestFactory', 'NestApplication']);

/**
 * Nest's Logger, written to the process's pino logger: framework messages, filters and TokenGuard (which keep
 * `new Logger(context)`) come out as lines like any other, with a `context` field.
 */
export class PinoNestLogger implements LoggerService {
  private readonly children = new Map<string, Logger>();

  constructor(private readonly logger: Logger) {}

  log(message: unknown, ...params: unknown[]): void {
    const context = contextOf(params);
    this.write(context !== undefined && CHATTY_CONTEXTS.has(context) ? 'debug' : 'info', message, context);
  }

  error(message: unknown, ...params: unknown[]): void {
    const context = contextOf(params);
    // Nest passes (message, stack, context) or (message, context).
    const stack = params.find((p, i) => typeof p === 'string' && (i < params.length - 1 || context === undefined) && p.includes('\n'));
    this.write('error', message, context, typeof stack === 'string' ? stack : undefined);
  }

  warn(message: unknown, ...params: unknown[]): void {
    this.write('warn', message, contextOf(params));
  }

  debug(message: unknown, ...params: unknown[]): void {
    this.write('debug', message, contextOf(params));
  }

  verbose(message: unknown, ...params: unknown[]): void {
    this.write('trace', message, contextOf(params));
  }

  fatal(message: unknown, ...params: unknown[]): void {
    this.write('fatal', message, contextOf(params));
  }

  private write(level: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal', message: unknown, context: string | undefined, stack?: string): void {
    const logger = this.child(context);
    if (!logger.isLevelEnabled(level)) return;
    // Credentials scrubbed from whatever text reaches here (a message that quoted its input, a stack).
    if (message instanceof Error) logger[level]({ stack: scrubCredentials(message.stack ?? '') }, scrubCredentials(message.message));
    else if (stack !== undefined) logger[level]({ stack: scrubCredentials(stack) }, scrubCredentials(String(message)));
    else logger[level](scrubCredentials(typeof message === 'string' ? message : String(message)));
  }

  private child(context: string | undefined): Logger {
    if (context === undefined) return this.logger;
    let child = this.children.get(context);
    if (!child) this.children.set(context, (child = this.logger.child({ context })));
    return child;
  }
}

/** Nest's Logger appends its context as the last argument. */
function contextOf(params: unknown[]): string | undefined {
  const last = params.at(-1);
  return typeof last === 'string' && !last.includes('\n') ? last : undefined;
}
