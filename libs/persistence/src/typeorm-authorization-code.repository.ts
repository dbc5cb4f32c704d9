import { AuthorizationCodeRepository, type AuthorizationCode, type RedeemedAuthorizationCode } from '@tessera/oauth-core';
import type { DataSource } from 'typeorm';
import { translateOutage } from './database-outage.js';
import { AuthorizationCodeEntity } from './entities/authorization-code.entity.js';

export class TypeOrmAuthorizationCodeRepository extends AuthorizationCodeRepository {
  constructor(private readonly dataSource: DataSource) {
    super();
  }

  insert(codeHash: string, code: AuthorizationCode): Promise<void> {
    return translateOutage(async () => {
      const { scope, ...rest } = code;
      await this.dataSource.manager.insert(AuthorizationCodeEntity, { codeHash, ...rest, scopes: scope, redeemedAt: null });
    });
  }

  redeem(codeHash: string, clientId: string, at: Date): Promise<RedeemedAuthorizationCode | null> {
    return translateOutage(() =>
      this.dataSource.transaction(async (manager) => {
        // The row lock orders concurrent redemptions: the second one sees the first one's redeemed_at.
        const row = await manager.findOne(AuthorizationCodeEntity, { where: { codeHash, clientId }, lock: { mode: 'pessimistic_write' } });
        if (!row) return null;
        if (!row.redeemedAt) await manager.update(AuthorizationCodeEntity, { codeHash }, { redeemedAt: at });
        return { code: toCode(row), previouslyRedeemedAt: row.redeemedAt };
      }),
    );
  }
}

function toCode(row: AuthorizationCodeEntity): AuthorizationCode {
  return {
    clientId: row.clientId,
    subject: row.subject,
    redirectUri: row.redirectUri,
    codeChallenge: row.codeChallenge,
    codeChallengeMethod: row.codeChallengeMethod as 'S256',
    scope: row.scopes,
    audience: row.audience,
    grantId: row.grantId!,
    issuedAt: row.issuedAt,
    expiresAt: row.expiresAt,
  };
}
