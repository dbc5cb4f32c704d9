// What resource teams import. Everything else in this folder is internal to the package.
export { TokenGuardModule, type TokenGuardModuleAsyncOptions } from './token-guard.module.js';
export type { IntrospectionCredentials, RevocationFeedOptions, TokenGuardOptions } from './token-guard.options.js';
export { TokenGuard } from './token.guard.js';
export { RequireScopes } from './require-scopes.decorator.js';
export { VerifiedToken, verifiedTokenOf } from './verified-token.decorator.js';
export type { VerifiedAccessToken } from './verified-access-token.js';
export { TokenGuardStatus, type RevocationFeedStatus } from './token-guard.status.js';
export type { MetricsRegistry, TokenGuardMetricsOptions, TokenGuardMetricsSnapshot, TokenGuardRejection } from './token-guard.metrics.js';
