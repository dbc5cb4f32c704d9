export * from './client-secret.hasher.js';
export * from './crypto-random.source.js';
export * from './jwt-access-token.strategy.js';
export * from './jwt-access-token.verifier.js';
export * from './key-encryption.js';
export * from './key-set.js';
export * from './opaque-access-token.strategy.js';
export * from './token-hash.js';
