// Signing-key rotation, through the same KeySet the auth server signs with, and re-encryption of what is kept
// under the key-encryption key. Running servers reload their keys when the change feed announces the change.
import { SIGNING_ALGORITHMS, type SigningAlgorithm } from '@tessera/oauth-core';
import { decryptPrivateKey, encryptPrivateKey, KeyEncryptionKeys } from '@tessera/tokens';
import { CliError, printJson, printTable } from '../cli-io.js';
import { JSON_OPTION, type Command } from '../command.js';

const rotate: Command = {
  name: 'keys rotate',
  synopsis: `[--alg ${SIGNING_ALGORITHMS.join('|')}] [--revoke-tokens] [--json]`,
  summary: 'activate a new signing key; the old one stays published until its last token has expired, its private half destroyed',
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
    const repo = ctx.storage.signingKeys;
    const { clock, keyEncryption: encryption } = ctx.admin;

    // A new key this process cannot encrypt the way the servers decrypt would stop signing; refuse early.
    const active = (await repo.listPublished(clock.now())).find((k) => k.status === 'active');
    if (active?.privateKey) {
      try {
        decryptPrivateKey(active.privateKey, active.kid, encryption);
      } catch (e) {
        throw new CliError(`cannot read the active key ${active.kid}: ${(e as Error).message}. Run this with the servers' TESSERA_KEY_ENCRYPTION_KEY.`);
      }
      if (encryption.encrypts && !KeyEncryptionKeys.isEnvelope(active.privateKey)) {
        io.err.write('note: the new key is stored encrypted with TESSERA_KEY_ENCRYPTION_KEY; the servers need the same value\n');
      }
    }

    const keys = ctx.admin.keySet(alg as SigningAlgorithm);
    try {
      await keys.rotate(alg as SigningAlgorithm, { revokeSigned: values['revoke-tokens'] === true });
    } finally {
      keys.close();
    }
    const newKid = keys.signingKey().kid;
    const published = (await repo.listPublished(clock.now())).map((k) => ({
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

const reEncrypt: Command = {
  name: 'keys re-encrypt',
  synopsis: '[--json]',
  summary: 'store the signing key and the client-secret hashes under TESSERA_KEY_ENCRYPTION_KEY: those in clear, and those under the previous key',
  details: [
    'Reads what is in clear, under TESSERA_KEY_ENCRYPTION_KEY or under TESSERA_PREVIOUS_KEY_ENCRYPTION_KEY, and writes it',
    'under TESSERA_KEY_ENCRYPTION_KEY. Client secrets stay the same: their hashes are sealed, not recomputed.',
    'To change the key-encryption key: restart the servers with the new key as TESSERA_KEY_ENCRYPTION_KEY and the old',
    'one as TESSERA_PREVIOUS_KEY_ENCRYPTION_KEY, run this with the same two, then drop the previous key.',
    '--json                 print the counts as JSON',
  ],
  options: { ...JSON_OPTION },
  async run(ctx, { values }, io) {
    const { clock, keyEncryption: encryption, secretHasher } = ctx.admin;
    if (!encryption.encrypts) throw new CliError('set TESSERA_KEY_ENCRYPTION_KEY: the key to encrypt under', 2);
    const { signingKeys, clients } = ctx.storage;
    const done = { signing_keys: 0, client_secrets: 0, unchanged: 0 };
    const failures: string[] = [];

    for (const key of await signingKeys.listPublished(clock.now())) {
      if (key.privateKey === null) continue;
      if (encryption.isCurrent(key.privateKey)) {
        done.unchanged += 1;
        continue;
      }
      try {
        const next = encryptPrivateKey(decryptPrivateKey(key.privateKey, key.kid, encryption), key.kid, encryption);
        if (await signingKeys.replacePrivateKey(key.kid, key.privateKey, next)) done.signing_keys += 1;
      } catch (e) {
        failures.push(`signing key ${key.kid}: ${(e as Error).message}`);
      }
    }
    for (const client of await clients.list()) {
      if (client.secretHash === null) continue;
      if (!secretHasher.needsRehash(client.secretHash)) {
        done.unchanged += 1;
        continue;
      }
      try {
        if (await clients.replaceSecretHash(client.clientId, client.secretHash, secretHasher.reseal(client.secretHash))) done.client_secrets += 1;
      } catch (e) {
        failures.push(`client ${client.clientId}: ${(e as Error).message}`);
      }
    }

    if (values.json) printJson(io, { ...done, failed: failures });
    else {
      io.out.write(
        `Re-encrypted ${done.signing_keys} signing key(s) and ${done.client_secrets} client-secret hash(es) under key-encryption key ${encryption.currentId}; ${done.unchanged} already were.\n`,
      );
    }
    if (failures.length > 0) throw new CliError(`could not re-encrypt:\n${failures.map((f) => `  ${f}`).join('\n')}`);
  },
};

const list: Command = {
  name: 'keys list',
  synopsis: '[--json]',
  summary: 'list the published signing keys (the active one and retired ones still in the JWKS); never a private key',
  details: ['--json                 print the keys as JSON'],
  options: { ...JSON_OPTION },
  async run(ctx, { values }, io) {
    const { clock, keyEncryption } = ctx.admin;
    const keys = (await ctx.storage.signingKeys.listPublished(clock.now())).map((k) => ({
      kid: k.kid,
      alg: k.alg,
      status: k.status,
      created_at: k.createdAt.toISOString(),
      retired_at: k.retiredAt?.toISOString() ?? null,
      publish_until: k.publishUntil?.toISOString() ?? null,
      // How its private half is kept: encrypted under the key-encryption key, in clear, or destroyed (retired).
      private_key: k.privateKey === null ? 'destroyed' : KeyEncryptionKeys.isEnvelope(k.privateKey) ? (keyEncryption.isCurrent(k.privateKey) ? 'encrypted' : 'encrypted (previous key)') : 'clear',
    }));
    if (values.json) return printJson(io, keys);
    printTable(
      io,
      ['KID', 'ALG', 'STATUS', 'CREATED', 'PUBLISHED_UNTIL', 'PRIVATE_KEY'],
      keys.map((k) => [k.kid, k.alg, k.status, k.created_at, k.publish_until ?? '-', k.private_key]),
    );
  },
};

export const keyCommands: Command[] = [list, rotate, reEncrypt];
