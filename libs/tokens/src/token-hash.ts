// The one definition lives in the core, which stores codes and refresh tokens by it too.
export { hashToken } from '@tessera/oauth-core';
