import type { EnvReader } from './env-reader.js';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export const LOG_FORMATS = ['json', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** What both servers log, and how. */
export interface LoggingConfig {
  /** TESSERA_LOG_LEVEL: the least severe level written (default `info`; Nest's start-up chatter is `debug`). */
  level: LogLevel;
  /** TESSERA_LOG_FORMAT: one JSON object a line, or pretty; unset: pretty when stdout is a terminal, JSON otherwise. */
  format: LogFormat | null;
}

export function readLoggingConfig(r: EnvReader): LoggingConfig {
  const level = r.oneOf('TESSERA_LOG_LEVEL', LOG_LEVELS, 'info');
  const format = r.string('TESSERA_LOG_FORMAT') === undefined ? null : r.oneOf('TESSERA_LOG_FORMAT', LOG_FORMATS, 'json');
  return { level, format };
}
