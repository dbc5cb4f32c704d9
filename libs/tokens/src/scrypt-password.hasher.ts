import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { PasswordHasher } from '@tessera/oauth-core';

export interface ScryptCost {
  /** log2 of N, the CPU/memory cost. */
  logN: number;
  r: number;
  p: number;
}

/** RFC 7914 scrypt at the cost OWASP recommends (N=2^17, r=8, p=1: 128 MiB per hash). */
export const DEFAULT_SCRYPT_COST: ScryptCost = { logN: 17, r: 8, p: 1 };
const KEY_LENGTH = 32;
const SALT_LENGTH = 16;
/** `scrypt$ln=17,r=8,p=1$<salt>$<key>`, base64url: the parameters travel with the hash, so they can change. */
const HASH_SHAPE = /^scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9_-]{16,})\$([A-Za-z0-9_-]{43})$/;
/** The weakest cost a stored hash may name: below it, verification refuses (a forged weak hash is not a shortcut). */
const MIN_LOG_N = 14;

function derive(password: string, salt: Buffer, cost: ScryptCost): Promise<Buffer> {
  const options: ScryptOptions = { N: 2 ** cost.logN, r: cost.r, p: cost.p, maxmem: 256 * 2 ** cost.logN * cost.r + 1024 * 1024 };
  return new Promise((resolve, reject) =>
    scrypt(password.normalize('NFC'), salt, KEY_LENGTH, options, (err, key) => (err ? reject(err) : resolve(key))),
  );
}

/** User passwords with scrypt (node:crypto), a random salt per hash, verified in constant time. */
export class ScryptPasswordHasher extends PasswordHasher {
  constructor(private readonly cost: ScryptCost = DEFAULT_SCRYPT_COST) {
    super();
  }

  async hash(password: string): Promise<string> {
    const salt = randomBytes(SALT_LENGTH);
    const key = await derive(password, salt, this.cost);
    const { logN, r, p } = this.cost;
    return `scrypt$ln=${logN},r=${r},p=${p}$${salt.toString('base64url')}$${key.toString('base64url')}`;
  }

  async verify(password: string, hash: string): Promise<boolean> {
    const parsed = parse(hash);
    if (!parsed) return false;
    const actual = await derive(password, parsed.salt, parsed.cost);
    return actual.length === parsed.key.length && timingSafeEqual(actual, parsed.key);
  }

  needsRehash(hash: string): boolean {
    const parsed = parse(hash);
    if (!parsed) return true;
    const { logN, r, p } = parsed.cost;
    return logN < this.cost.logN || r < this.cost.r || p < this.cost.p;
  }
}

function parse(hash: string): { cost: ScryptCost; salt: Buffer; key: Buffer } | null {
  const m = HASH_SHAPE.exec(hash);
  if (!m) return null;
  const cost = { logN: Number(m[1]), r: Number(m[2]), p: Number(m[3]) };
  if (cost.logN < MIN_LOG_N || cost.logN > 20 || cost.r < 1 || cost.r > 32 || cost.p < 1 || cost.p > 16) return null;
  return { cost, salt: Buffer.from(m[4], 'base64url'), key: Buffer.from(m[5], 'base64url') };
}
