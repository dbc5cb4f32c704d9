// The compose file's `init` service: on the first start, generates the secrets a deployment must not share
// with anyone else's into TESSERA_SECRETS_DIR (the tessera-secrets volume), one file each, mode 600; on
// later starts it keeps them. The image's entrypoint (scripts/container-entrypoint.sh) hands each one to the
// servers as the variable of its name, unless that variable is set (e.g. in .env next to docker-compose.yml).
//
//   TESSERA_KEY_ENCRYPTION_KEY    encrypts the private signing keys and client-secret hashes in the database
//   TESSERA_INITIAL_ACCESS_TOKEN  opens registration (RFC 7591) to its holder: the sample resource server
//                                 registers itself with it, so it can introspect opaque tokens
//   PGPASSWORD                    the PostgreSQL password (POSTGRES_PASSWORD_FILE of the postgres services)
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const SECRETS = ['TESSERA_KEY_ENCRYPTION_KEY', 'TESSERA_INITIAL_ACCESS_TOKEN', 'PGPASSWORD'];

/** Creates each missing secret (32 random bytes, base64url) in `dir`; returns the names it created. */
export function initSecrets(dir) {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const created = [];
  for (const name of SECRETS) {
    const file = join(dir, name);
    if (existsSync(file) && readFileSync(file, 'utf8').trim() !== '') continue;
    writeFileSync(file, randomBytes(32).toString('base64url'), { mode: 0o600 });
    created.push(name);
  }
  return created;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const dir = process.env.TESSERA_SECRETS_DIR || '/run/tessera/secrets';
  const created = initSecrets(dir);
  const kept = SECRETS.filter((name) => !created.includes(name));
  if (created.length > 0) console.log(`generated ${created.join(', ')} into ${dir} (the tessera-secrets volume)`);
  if (kept.length > 0) console.log(`kept ${kept.join(', ')} from ${dir}`);
  console.log('Keep this volume: without TESSERA_KEY_ENCRYPTION_KEY the signing keys and client secrets in the database cannot be read. Variables set in .env take precedence over these files.');
}
