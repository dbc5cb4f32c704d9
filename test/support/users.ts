// People who sign in, created as the CLI's `users create` does: UserDirectory over the users table,
// passwords hashed with scrypt at the server's cost, on the running auth server's database.
import { randomBytes } from 'node:crypto';
import { SystemClock, UserDirectory, type User } from '@tessera/oauth-core';
import { TypeOrmUserRepository } from '@tessera/persistence';
import { ScryptPasswordHasher } from '@tessera/tokens';
import { DataSource } from 'typeorm';
import type { RunningAuthServer } from '../../apps/auth-server/test/auth-server.harness.js';

export interface Person {
  user: User;
  username: string;
  password: string;
}

/** The users of a running auth server, managed as an operator would. */
export function userDirectory(server: RunningAuthServer): UserDirectory {
  const users = new TypeOrmUserRepository(server.app.get(DataSource), server.config.tokens.maxAccessTokenTtl);
  return new UserDirectory(users, new ScryptPasswordHasher(), new SystemClock());
}

/** A new user with a unique username and a random password. */
export async function aPerson(directory: UserDirectory, prefix = 'user'): Promise<Person> {
  const username = `${prefix}-${randomBytes(4).toString('hex')}`;
  const password = randomBytes(12).toString('base64url');
  return { user: await directory.create(username, password), username, password };
}
