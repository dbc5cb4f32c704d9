export * from './logger.js';
export * from './nest-logger.service.js';
export * from './pino-audit.log.js';
export * from './request-log.js';
export * from './log-capture.js';
export * from './error-text.js';
export * from './batched-destination.js';
