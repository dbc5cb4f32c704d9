export * from './compose.js';
export * from './grant-factories.js';
