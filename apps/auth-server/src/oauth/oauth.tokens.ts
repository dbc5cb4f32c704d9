/** The server composeAuthServer built (`AuthServer`): every other provider of the OAuth module is a part of it. */
export const AUTH_SERVER = Symbol('AUTH_SERVER');
export const DISCOVERY_METADATA = Symbol('DISCOVERY_METADATA');
export const AUTH_SERVER_CONFIG = Symbol('AUTH_SERVER_CONFIG');
/** The clients the protocol reads: cached in memory, invalidated through the change feed. */
export const CACHED_CLIENTS = Symbol('CACHED_CLIENTS');
