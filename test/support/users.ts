// People who sign in, created as the CLI's `users create` does: with the UserDirectory the composition
// function builds, on the running auth server's storage and with its password hasher (a fast one in
// tests, unless the server was started with `defaultPasswordHasher()`).
import { randomBytes } from 'node:crypto';
import type { User, UserDirectory } from '@tessera/oauth-core';
import type { RunningAuthServer } from '../../apps/auth-server/test/auth-server.harness.js';

export interface Person {
  user: User;
  username: string;
  password: string;
}

/** The users of a running auth server, managed as an operator would. */
export function userDirectory(server: RunningAuthServer): UserDirectory {
  return server.services.users;
}

/** A new user with a unique username and a random password. */
export async function aPerson(directory: UserDirectory, prefix = 'user'): Promise<Person> {
  const username = `${prefix}-${randomBytes(4).toString('hex')}`;
  const password = randomBytes(12).toString('base64url');
  return { user: await directory.create(username, password), username, password };
}
