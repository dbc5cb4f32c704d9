export * from './errors/oauth-error.js';
export * from './domain/client.js';
export * from './domain/token.js';
export * from './ports/index.js';
