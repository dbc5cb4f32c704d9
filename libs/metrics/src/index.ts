export * from './metrics-registry.js';
export * from './child-cache.js';
export * from './http.metrics.js';
export * from './database.metrics.js';
export * from './database-outage.interceptor.js';
export * from './metrics.server.js';
export * from './metrics.module.js';
