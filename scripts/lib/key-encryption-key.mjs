// The key-encryption key of the embedded default (`npm start` without DATABASE_URL): generated into the data
// folder on the first start, file mode 600, and reused by later starts and by `npm run cli`. It encrypts the
// private signing keys and the client-secret hashes in .tessera/pgdata; losing it makes them unreadable.
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { ROOT } from './processes.mjs';

export const EMBEDDED_KEK_FILE = resolve(ROOT, '.tessera/key-encryption-key');

const KEK_SHAPE = /^[A-Za-z0-9_-]{43}$/;

/** The file's key, or null when there is no file. Throws when it is not a key, or others may read it. */
export function readEmbeddedKek(file = EMBEDDED_KEK_FILE) {
  if (!existsSync(file)) return null;
  const mode = statSync(file).mode & 0o777;
  if ((mode & 0o077) !== 0) {
    throw new Error(`${file} is readable by others (mode ${mode.toString(8)}): run chmod 600 ${file}`);
  }
  const value = readFileSync(file, 'utf8').trim();
  if (!KEK_SHAPE.test(value) || Buffer.from(value, 'base64url').length !== 32) {
    throw new Error(`${file} does not hold a key-encryption key (32 random bytes in base64url)`);
  }
  return value;
}

/** The file's key; a new one written (mode 600) when there is no file. `created` says which. */
export function ensureEmbeddedKek(file = EMBEDDED_KEK_FILE) {
  const existing = readEmbeddedKek(file);
  if (existing) return { key: existing, created: false };
  mkdirSync(dirname(file), { recursive: true });
  const key = randomBytes(32).toString('base64url');
  // 'wx': never overwrite a key another start wrote meanwhile.
  try {
    writeFileSync(file, `${key}\n`, { mode: 0o600, flag: 'wx' });
  } catch (e) {
    if (e?.code === 'EEXIST') return { key: readEmbeddedKek(file), created: false };
    throw e;
  }
  chmodSync(file, 0o600);
  return { key, created: true };
}
