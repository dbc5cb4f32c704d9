import { SetMetadata } from '@nestjs/common';

export const REQUIRED_SCOPES = 'tessera:required-scopes';

/** Every listed scope is required; on both a controller and a handler, the scopes of both are. */
export const RequireScopes = (...scopes: string[]): ClassDecorator & MethodDecorator => SetMetadata(REQUIRED_SCOPES, scopes);
