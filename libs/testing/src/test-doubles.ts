// A clock a test moves, and a password hasher that costs nothing: what tests pass to the composition
// function (composeAuthServer) when time or sign-in is what they test, instead of sleeping or paying scrypt.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { Clock, PasswordHasher } from '@tessera/oauth-core';

/**
 * The real time plus what the test has moved it on by: a server on it behaves as on the system clock
 * (timestamps stay close to what PostgreSQL and other processes see), until the test jumps past a lifetime.
 */
export class ManualClock extends Clock {
  private offsetMs = 0;

  now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }

  advance(seconds: number): void {
    this.offsetMs += seconds * 1000;
  }
}

const SHAPE = /^test-sha256\$([A-Za-z0-9_-]{22})\$([A-Za-z0-9_-]{43})$/;

/**
 * Salted SHA-256, for tests only: a password check in microseconds, not the 128 MiB scrypt the server uses.
 * It counts its calls, so a test can tell how many passwords were hashed and checked.
 */
export class FastPasswordHasher extends PasswordHasher {
  hashes = 0;
  verifications = 0;

  async hash(password: string): Promise<string> {
    this.hashes += 1;
    const salt = randomBytes(16).toString('base64url');
    return `test-sha256$${salt}$${digest(salt, password)}`;
  }

  async verify(password: string, hash: string): Promise<boolean> {
    this.verifications += 1;
    const parsed = SHAPE.exec(hash);
    if (!parsed) return false;
    const expected = Buffer.from(parsed[2], 'base64url');
    const actual = Buffer.from(digest(parsed[1], password), 'base64url');
    return timingSafeEqual(expected, actual);
  }

  needsRehash(hash: string): boolean {
    return !SHAPE.test(hash);
  }
}

function digest(salt: string, password: string): string {
  return createHash('sha256').update(`${salt}\0${password.normalize('NFC')}`).digest('base64url');
}
