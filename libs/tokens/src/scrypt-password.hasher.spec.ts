import { DEFAULT_SCRYPT_COST, ScryptPasswordHasher } from './scrypt-password.hasher.js';

describe('ScryptPasswordHasher', () => {
  // The cheapest cost it accepts, so the suite stays fast; the default is checked separately.
  const hasher = new ScryptPasswordHasher({ logN: 14, r: 8, p: 1 });

  it('hashes with a random salt and its parameters, and verifies', async () => {
    const a = await hasher.hash('correct horse');
    const b = await hasher.hash('correct horse');
    expect(a).toMatch(/^scrypt\$ln=14,r=8,p=1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    expect(a).not.toBe(b);
    expect(await hasher.verify('correct horse', a)).toBe(true);
    expect(await hasher.verify('correct horse!', a)).toBe(false);
    expect(await hasher.verify('', a)).toBe(false);
  });

  it('normalizes the password to NFC', async () => {
    const hash = await hasher.hash('caf\u00e9-password');
    expect(await hasher.verify('cafe\u0301-password', hash)).toBe(true);
  });

  it('verifies with the parameters the hash names, and asks for a rehash below the current cost', async () => {
    const stronger = new ScryptPasswordHasher({ logN: 15, r: 8, p: 1 });
    const old = await hasher.hash('pw-123456');
    expect(await stronger.verify('pw-123456', old)).toBe(true);
    expect(stronger.needsRehash(old)).toBe(true);
    expect(stronger.needsRehash(await stronger.hash('pw-123456'))).toBe(false);
  });

  it.each([
    'plain',
    'scrypt$ln=10,r=8,p=1$c2FsdHNhbHRzYWx0c2FsdA$' + 'A'.repeat(43), // too cheap to be ours
    'scrypt$ln=14,r=8,p=1$c2FsdA$' + 'A'.repeat(43), // salt too short
    'hmac-sha256$' + 'A'.repeat(43),
  ])('refuses the malformed or too weak hash %j', async (hash) => {
    expect(await hasher.verify('anything', hash)).toBe(false);
    expect(hasher.needsRehash(hash)).toBe(true);
  });

  it('defaults to at least N=2^15, r=8, p=1', () => {
    expect(DEFAULT_SCRYPT_COST.logN).toBeGreaterThanOrEqual(15);
    expect(DEFAULT_SCRYPT_COST).toMatchObject({ r: 8, p: 1 });
  });
});
