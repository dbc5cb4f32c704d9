// Signing-key rotation, through the same KeySet the auth server signs with.
// Running servers reload their keys when the change feed announces the rotation.
import { LocalChangeFeed, SIGNING_ALGORITHMS, type SigningAlgorithm } from '@tessera/oauth-core';
import { TypeOrmSigningKeyRepository } from '@tessera/persistence';
import { decryptPrivateKey, KeySet } from '@tessera/tokens';
import { CliError, printJson, printTable } from '../cli-io.js';
import { JSON_OPTION, type Command } from '../command.js';

const rotate: Command = {
  name: 'keys rotate',
  synopsis: `[--alg ${SIGNING_ALGORITHMS.join('|')}] [--revoke-tokens] [--json]`,
  summary: 'activate a new signing key; the old one stays published until its last token has expired',
  details: [
    '--alg ALG              algorithm of the new key; default TESSERA_SIGNING_ALG (ES256)',
    '--revoke-tokens        the old key may be compromised: unpublish it now and revoke every token it signed',
    'Run it with the servers\' TESSERA_KEY_ENCRYPTION_KEY, so they can decrypt the new key.',
  ],
  options: { alg: { type: 'string' }, 'revoke-tokens': { type: 'boolean' }, ...JSON_OPTION },
  async run(ctx, { values }, io) {
    const alg = (values.alg as string | undefined) ?? ctx.tokens.signingAlgorithm;
    if (!SIGNING_ALGORITHMS.includes(alg as SigningAlgorithm)) {
      throw new CliError(`--alg must be one of ${SIGNING_ALGORITHMS.join(', ')}`, 2);
    }
    const repo = new TypeOrmSigningKeyRepository(ctx.dataSource);
    const secret = ctx.tokens.keyEncryptionKey;

    // A new key this process cannot encrypt the way the servers decrypt would stop signing; refuse early.
    const active = (await repo.listPublished(ctx.clock.now())).find((k) => k.status === 'active');
    if (active) {
      try {
        decryptPrivateKey(active.privateKey, secret);
      } catch (e) {
        throw new CliError(`cannot read the active key ${active.kid}: ${(e as Error).message}. Run this with the servers' TESSERA_KEY_ENCRYPTION_KEY.`);
      }
      if (secret && active.privateKey.startsWith('{')) {
        io.err.write('note: the new key is stored encrypted with TESSERA_KEY_ENCRYPTION_KEY; the servers need the same value\n');
      }
    }

    const keys = new KeySet(repo, new LocalChangeFeed(), ctx.clock, {
      algorithm: alg as SigningAlgorithm,
      encryptionSecret: secret,
      maxTokenTtlSeconds: ctx.tokens.maxAccessTokenTtl,
    });
    try {
      await keys.rotate(alg as SigningAlgorithm, { revokeSigned: values['revoke-tokens'] === true });
    } finally {
      keys.close();
    }
    const newKid = keys.signingKey().kid;
    const published = (await repo.listPublished(ctx.clock.now())).map((k) => ({
      kid: k.kid,
      alg: k.alg,
      status: k.status,
      publish_until: k.publishUntil?.toISOString() ?? null,
    }));
    if (values.json) return printJson(io, { active_kid: newKid, alg, published });
    io.out.write(`New active signing key ${newKid} (${alg}). Published keys:\n`);
    printTable(
      io,
      ['KID', 'ALG', 'STATUS', 'PUBLISHED_UNTIL'],
      published.map((k) => [k.kid, k.alg, k.status, k.publish_until ?? '-']),
    );
  },
};

export const keyCommands: Command[] = [rotate];
