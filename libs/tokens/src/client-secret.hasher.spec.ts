import { ClientSecretHasher } from './client-secret.hasher.js';

describe('ClientSecretHasher', () => {
  const hasher = new ClientSecretHasher();

  it('hashes with HMAC-SHA256 under the default domain-separation key', () => {
    expect(hasher.hash('s3cret')).toBe('hmac-sha256$7uyGVzH-ZHaeTUVPLR51uC0TsF3HO1QaaRdNXCuZEuY');
  });

  it('verifies the right secret and rejects a wrong one', () => {
    const hash = hasher.hash('s3cret');
    expect(hasher.verify('s3cret', hash)).toBe(true);
    expect(hasher.verify('s3cret ', hash)).toBe(false);
    expect(hasher.verify('', hash)).toBe(false);
  });

  it('depends on the pepper', () => {
    const peppered = new ClientSecretHasher('pepper-1');
    expect(peppered.hash('s3cret')).not.toBe(hasher.hash('s3cret'));
    expect(peppered.verify('s3cret', hasher.hash('s3cret'))).toBe(false);
    expect(new ClientSecretHasher('pepper-1').verify('s3cret', peppered.hash('s3cret'))).toBe(true);
  });

  it.each([
    '',
    'hmac-sha256$',
    'hmac-sha256$7uyGVzH-ZHaeTUVPLR51uC0TsF3HO1QaaRdNXCuZEu',
    'hmac-sha256$7uyGVzH-ZHaeTUVPLR51uC0TsF3HO1QaaRdNXCuZEuYA',
    'hmac-sha256$7uyGVzH+ZHaeTUVPLR51uC0TsF3HO1QaaRdNXCuZEuY',
    'sha256$7uyGVzH-ZHaeTUVPLR51uC0TsF3HO1QaaRdNXCuZEuY',
    '7uyGVzH-ZHaeTUVPLR51uC0TsF3HO1QaaRdNXCuZEuY',
  ])('is false, not throwing, for the malformed hash %j', (hash) => {
    expect(hasher.verify('s3cret', hash)).toBe(false);
  });
});
