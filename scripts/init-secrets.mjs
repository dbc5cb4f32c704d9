// The compose file's `init` service: on the first start, generates the secrets a deployment must not share
// with anyone else's into TESSERA_SECRETS_DIR (the tessera-secrets volume), one file each, mode 600; on
// later starts it keeps them. The image's entrypoint (scripts/container-entrypoint.sh) hands each one to the
// servers as the variable of its name, unless that variable is set (e.g. in .env next to docker-compose.yml).
//
//   TESSERA_KEY_ENCRYPTION_KEY    encrypts the private signing keys and client-secret hashes in the database
//   TESSERA_INITIAL_ACCESS_TOKEN  opens registration (RFC 7591) to its holder: the sample resource server
//                                 registers itself with it, so it can introspect opaque tokens
//   PGPASSWORD                    the auth server's PostgreSQL password (POSTGRES_PASSWORD_FILE of `postgres`)
//
// With TESSERA_RESOURCE_SECRETS_DIR (the tessera-resource-secrets volume), it also fills the resource server's
// own, which holds only what that server needs: never the key-encryption key or the auth database's password.
//
//   TESSERA_INITIAL_ACCESS_TOKEN  a copy of the one above
//   PGPASSWORD                    the notes database's own password (POSTGRES_PASSWORD_FILE of `notes-db`); for a
//                                 deployment whose notes database was made with the shared one (before the
//                                 volumes were split), that one, which that database still has
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const SECRETS = ['TESSERA_KEY_ENCRYPTION_KEY', 'TESSERA_INITIAL_ACCESS_TOKEN', 'PGPASSWORD'];
/** What the resource server's volume holds. */
export const RESOURCE_SECRETS = ['TESSERA_INITIAL_ACCESS_TOKEN', 'PGPASSWORD'];

const newSecret = () => randomBytes(32).toString('base64url');

function read(dir, name) {
  const file = join(dir, name);
  const value = existsSync(file) ? readFileSync(file, 'utf8').trim() : '';
  return value === '' ? undefined : value;
}

/** Written, or rewritten, readable by its owner only (the mode of `writeFileSync` applies to a new file alone). */
function write(dir, name, value) {
  writeFileSync(join(dir, name), value, { mode: 0o600 });
  chmodSync(join(dir, name), 0o600);
}

/** A kept secret whose mode was loosened (a copy, a restore from a backup) is made owner-only again. */
function tighten(dir, name) {
  chmodSync(join(dir, name), 0o600);
}

/** Creates each missing secret (32 random bytes, base64url) in `dir`; returns the names it created. */
export function initSecrets(dir) {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const created = [];
  for (const name of SECRETS) {
    if (read(dir, name) !== undefined) {
      tighten(dir, name);
      continue;
    }
    write(dir, name, newSecret());
    created.push(name);
  }
  return created;
}

/**
 * Fills the resource server's `resourceDir` from the auth server's `authDir` (run `initSecrets(authDir)` first):
 * the initial access token copied, and a database password of its own, made once. `sharedPassword`: the auth
 * database's password when it existed before this run, which a notes database made back then also has.
 */
export function initResourceSecrets(resourceDir, authDir, sharedPassword) {
  mkdirSync(resourceDir, { recursive: true, mode: 0o700 });
  const created = [];
  const token = read(authDir, 'TESSERA_INITIAL_ACCESS_TOKEN');
  if (read(resourceDir, 'TESSERA_INITIAL_ACCESS_TOKEN') !== token) write(resourceDir, 'TESSERA_INITIAL_ACCESS_TOKEN', token);
  if (read(resourceDir, 'PGPASSWORD') === undefined) {
    write(resourceDir, 'PGPASSWORD', sharedPassword ?? newSecret());
    created.push('PGPASSWORD');
  } else {
    tighten(resourceDir, 'PGPASSWORD');
  }
  tighten(resourceDir, 'TESSERA_INITIAL_ACCESS_TOKEN');
  return created;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const dir = process.env.TESSERA_SECRETS_DIR || '/run/tessera/secrets';
  const resourceDir = process.env.TESSERA_RESOURCE_SECRETS_DIR;
  const sharedPassword = read(dir, 'PGPASSWORD');
  const created = initSecrets(dir);
  const kept = SECRETS.filter((name) => !created.includes(name));
  if (created.length > 0) console.log(`generated ${created.join(', ')} into ${dir} (the tessera-secrets volume)`);
  if (kept.length > 0) console.log(`kept ${kept.join(', ')} from ${dir}`);
  if (resourceDir) {
    const made = initResourceSecrets(resourceDir, dir, sharedPassword);
    console.log(`the resource server's ${resourceDir} (the tessera-resource-secrets volume): TESSERA_INITIAL_ACCESS_TOKEN, and ${made.length > 0 ? 'a new' : 'its'} PGPASSWORD`);
  }
  console.log('Keep this volume: without TESSERA_KEY_ENCRYPTION_KEY the signing keys and client secrets in the database cannot be read. Variables set in .env take precedence over these files.');
}
