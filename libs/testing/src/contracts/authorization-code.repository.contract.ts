import { randomUUID } from 'node:crypto';
import type { AuthorizationCode } from '@tessera/oauth-core';
import { aClient } from '../fixtures.js';
import type { ContractPorts, MakePorts } from './contract-ports.js';

/** The behaviour every AuthorizationCodeRepository shares; `makePorts` returns empty stores. */
export function authorizationCodeRepositoryContract(name: string, makePorts: MakePorts<'authorizationCodes' | 'clients'>): void {
  describe(`${name}: AuthorizationCodeRepository contract`, () => {
    let codes: ContractPorts['authorizationCodes'];
    let clientId: string;
    let seq = 0;
    const aHash = () => `code-${++seq}-${randomUUID()}`;
    beforeEach(async () => {
      const ports = await makePorts();
      codes = ports.authorizationCodes;
      const client = aClient({ grantTypes: ['authorization_code'], redirectUris: ['https://app.example/cb'] });
      await ports.clients.create(client);
      clientId = client.clientId;
    });
    const aCode = (): AuthorizationCode => ({
      clientId,
      subject: randomUUID(),
      redirectUri: 'https://app.example/cb',
      codeChallenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      codeChallengeMethod: 'S256',
      scope: ['read', 'write'],
      audience: ['https://api.example'],
      grantId: randomUUID(),
      issuedAt: new Date('2026-01-01T00:00:00.000Z'),
      expiresAt: new Date('2026-01-01T00:01:00.000Z'),
    });

    it('redeems a code once, giving it back as stored', async () => {
      const code = aCode();
      const hash = aHash();
      await codes.insert(hash, code);
      const at = new Date('2026-01-01T00:00:10.123Z');
      expect(await codes.redeem(hash, clientId, at)).toEqual({ code, previouslyRedeemedAt: null });
    });

    it('reports a second redemption with the first one’s instant and the code’s grant', async () => {
      const code = aCode();
      const hash = aHash();
      await codes.insert(hash, code);
      const first = new Date('2026-01-01T00:00:10.123Z');
      await codes.redeem(hash, clientId, first);
      expect(await codes.redeem(hash, clientId, new Date('2026-01-01T00:00:20Z'))).toEqual({ code, previouslyRedeemedAt: first });
    });

    it('lets exactly one of concurrent redemptions be the first', async () => {
      const hash = aHash();
      await codes.insert(hash, aCode());
      const at = new Date('2026-01-01T00:00:10Z');
      const results = await Promise.all([1, 2, 3].map(() => codes.redeem(hash, clientId, at)));
      expect(results.filter((r) => r?.previouslyRedeemedAt === null)).toHaveLength(1);
    });

    it('neither gives nor spends a code presented by another client', async () => {
      const code = aCode();
      const hash = aHash();
      await codes.insert(hash, code);
      expect(await codes.redeem(hash, 'another-client', new Date('2026-01-01T00:00:05Z'))).toBeNull();
      expect(await codes.redeem(hash, clientId, new Date('2026-01-01T00:00:10Z'))).toEqual({ code, previouslyRedeemedAt: null });
    });

    it('answers null for an unknown code, and refuses a duplicate hash', async () => {
      expect(await codes.redeem(aHash(), clientId, new Date())).toBeNull();
      const hash = aHash();
      await codes.insert(hash, aCode());
      await expect(codes.insert(hash, aCode())).rejects.toThrow();
    });
  });
}
