export * from './in-memory-access-token.repository.js';
export * from './in-memory-client.repository.js';
export * from './in-memory-revocation.repository.js';
export * from './in-memory-signing-key.repository.js';
export * from './fixtures.js';
export * from './test-database.js';
