export * from './env-reader.js';
export * from './auth-server.config.js';
export * from './resource-server.config.js';
export * from './metrics.config.js';
export * from './logging.config.js';
