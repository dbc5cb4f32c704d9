export const DISCOVERY_METADATA = Symbol('DISCOVERY_METADATA');
export const AUTH_SERVER_CONFIG = Symbol('AUTH_SERVER_CONFIG');
/** The clients the protocol reads: cached in memory, invalidated through the change feed. */
export const CACHED_CLIENTS = Symbol('CACHED_CLIENTS');
