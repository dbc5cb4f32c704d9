// Operator commands on clients. Validation and creation go through the same
// code as RFC 7591 registration (parseClientMetadata, ClientRegistrar).
import {
  clientResponse,
  ClientRegistrar,
  displayText,
  formatScope,
  OAuthError,
  parseClientMetadata,
  type Client,
  type ClientRepository,
} from '@tessera/oauth-core';
import type { CliContext } from '../cli-context.js';
import { CliError, printJson, printTable, type CliIo } from '../cli-io.js';
import { JSON_OPTION, type Command, type OptionValues } from '../command.js';

/** Where each registration metadata member comes from on the command line. */
const FLAG_OF: Record<string, string> = {
  client_name: '--name',
  scope: '--scope',
  grant_types: '--grant-types',
  token_endpoint_auth_method: '--auth-method',
  access_token_format: '--format',
  access_token_lifetime: '--ttl',
  resources: '--resource',
  resource_server_for: '--resource-server-for',
  redirect_uris: '--redirect-uri',
};

function services(ctx: CliContext) {
  return { clients: ctx.storage.clients, registrar: ctx.admin.registrar };
}

/** An OAuthError from the core, said in terms of this command's flags. */
function explain(e: unknown): never {
  if (e instanceof OAuthError) {
    const member = Object.keys(FLAG_OF).find((m) => e.description.startsWith(m));
    throw new CliError(member ? `${e.description} (${FLAG_OF[member]})` : e.description);
  }
  throw e;
}

/** The RFC 7591 metadata object the flags describe; parseClientMetadata judges it. */
function metadataFrom(values: OptionValues): Record<string, unknown> {
  const list = (v: unknown) => (v as string[] | undefined)?.flatMap((s) => s.split(/[\s,]+/)).filter(Boolean);
  const ttl = values.ttl as string | undefined;
  return {
    client_name: values.name,
    scope: values.scope,
    grant_types: list(values['grant-types']),
    token_endpoint_auth_method: values['auth-method'],
    access_token_format: values.format,
    // A non-number is passed on as it is, so the core rejects it with its usual message.
    access_token_lifetime: ttl === undefined ? undefined : /^\d+$/.test(ttl) ? Number(ttl) : ttl,
    resources: values.resource,
    resource_server_for: values['resource-server-for'],
    redirect_uris: values['redirect-uri'],
  };
}

function withStatus(client: Client): Record<string, unknown> {
  return {
    ...clientResponse(client, null),
    disabled_at: client.disabledAt?.toISOString() ?? null,
    deleted_at: client.deletedAt?.toISOString() ?? null,
    // Whether the client can manage itself (RFC 7592); the token itself is never shown again.
    has_registration_access_token: client.registrationAccessTokenHash !== null,
  };
}

/** The client's name, quoted, without the terminal escapes or bidi overrides a name stored before names were checked may hold. */
function shownName(client: Client): string {
  return JSON.stringify(client.clientName === null ? null : displayText(client.clientName));
}

function statusOf(client: Client): string {
  return client.deletedAt ? 'deleted' : client.disabledAt ? 'disabled' : 'active';
}

/** The client's settings, one per line, for humans. */
function describe(client: Client): string[] {
  return [
    `  client_id:      ${client.clientId}`,
    // A name stored before names were checked may hold terminal escapes or bidi overrides: shown without them.
    `  name:           ${displayText(client.clientName ?? '')}`,
    `  status:         ${statusOf(client)}`,
    `  auth method:    ${client.tokenEndpointAuthMethod}`,
    `  grant types:    ${client.grantTypes.join(', ')}`,
    `  scope:          ${formatScope(client.scopes)}`,
    `  token format:   ${client.accessTokenFormat}`,
    `  token lifetime: ${client.accessTokenTtl === null ? 'server default' : `${client.accessTokenTtl}s`}`,
    ...(client.resources.length > 0 ? [`  resources:      ${client.resources.join(' ')}`] : []),
    ...(client.redirectUris.length > 0 ? [`  redirect URIs:  ${client.redirectUris.join(' ')}`] : []),
    ...(client.resourceServerFor.length > 0 ? [`  resource server for: ${client.resourceServerFor.join(' ')}`] : []),
    `  self-managed:   ${client.registrationAccessTokenHash !== null ? 'yes (RFC 7592 registration access token)' : 'no'}`,
  ];
}

async function findOrFail(clients: ClientRepository, clientId: string): Promise<Client> {
  const client = await clients.findById(clientId);
  if (!client) throw new CliError(`no client ${clientId} (see \`clients list\`)`);
  return client;
}

const create: Command = {
  name: 'clients create',
  synopsis:
    '--name NAME --scope "a b" [--grant-types client_credentials] [--auth-method client_secret_basic|client_secret_post|none] ' +
    '[--redirect-uri URI ...] [--format opaque|jwt] [--ttl SECONDS] [--resource URI ...] [--resource-server-for URI ...] [--json]',
  summary: 'register a client; prints its client_id and client_secret (shown only this once; none for a public client)',
  details: [
    '--name NAME            client_name (required)',
    '--scope "a b"          scopes the client may request, space-separated (required)',
    '--grant-types LIST     comma- or space-separated: client_credentials (default with no --redirect-uri),',
    '                       authorization_code (default with one), refresh_token',
    '--auth-method METHOD   client_secret_basic (default), client_secret_post, or none (a public client: a',
    '                       single-page or native app, authorization_code and refresh_token only, PKCE as its proof)',
    '--redirect-uri URI     a redirect URI for authorization_code (https, or http on loopback); repeatable',
    '--format FORMAT        access tokens as opaque (default) or jwt',
    '--ttl SECONDS          access-token lifetime; default the server\'s TESSERA_ACCESS_TOKEN_TTL',
    '--resource URI         an RFC 8707 resource (audience) the client may ask for; repeatable',
    '--resource-server-for URI',
    '                       makes the client a resource server for this resource identifier: it may introspect',
    '                       tokens whose audience includes it and read the revocation feed for it; repeatable',
    '--json                 print the RFC 7591 client information response as JSON',
  ],
  options: {
    name: { type: 'string' },
    scope: { type: 'string' },
    'grant-types': { type: 'string', multiple: true },
    'auth-method': { type: 'string' },
    format: { type: 'string' },
    ttl: { type: 'string' },
    resource: { type: 'string', multiple: true },
    'resource-server-for': { type: 'string', multiple: true },
    'redirect-uri': { type: 'string', multiple: true },
    ...JSON_OPTION,
  },
  async run(ctx, { values }, io) {
    const missing = (['name', 'scope'] as const).filter((o) => values[o] === undefined);
    if (missing.length > 0) throw new CliError(`missing ${missing.map((o) => `--${o}`).join(' and ')}`, 2);
    const { registrar } = services(ctx);
    let result: Awaited<ReturnType<ClientRegistrar['register']>>;
    try {
      const metadata = parseClientMetadata(metadataFrom(values), { grantTypes: ctx.grants, maxAccessTokenTtl: ctx.tokens.maxAccessTokenTtl });
      result = await registrar.register(metadata);
    } catch (e) {
      explain(e);
    }
    const { client, clientSecret } = result;
    if (values.json) return printJson(io, clientResponse(client, clientSecret));
    io.out.write(
      [
        `Created client ${shownName(client)}`,
        ...describe(client),
        `  client_secret:  ${clientSecret ?? '(none: a public client)'}`,
        ...(clientSecret ? ['Store the client secret now: it is not shown again (only its hash is kept).'] : []),
        '',
      ].join('\n'),
    );
  },
};

const list: Command = {
  name: 'clients list',
  synopsis: '[--json]',
  summary: 'list the registered clients',
  options: { ...JSON_OPTION },
  async run(ctx, { values }, io) {
    const all = await services(ctx).clients.list();
    if (values.json) return printJson(io, all.map(withStatus));
    if (all.length === 0) {
      io.out.write('No clients yet. Create one with `clients create --name NAME --scope "a b"`.\n');
      return;
    }
    printTable(
      io,
      ['CLIENT_ID', 'NAME', 'STATUS', 'FORMAT', 'TTL', 'AUTH_METHOD', 'GRANT_TYPES', 'SCOPE'],
      all.map((c) => [
        c.clientId,
        displayText(c.clientName ?? ''),
        statusOf(c),
        c.accessTokenFormat,
        c.accessTokenTtl === null ? 'default' : `${c.accessTokenTtl}s`,
        c.tokenEndpointAuthMethod,
        c.grantTypes.join(','),
        formatScope(c.scopes),
      ]),
    );
  },
};

const disable: Command = {
  name: 'clients disable',
  synopsis: '<client_id> [--json]',
  summary: 'disable a client: it can no longer authenticate, and its tokens stop working',
  options: { ...JSON_OPTION },
  positionals: ['client_id'],
  async run(ctx, { values, args: [clientId] }, io) {
    const { clients, registrar } = services(ctx);
    const existing = await findOrFail(clients, clientId);
    if (existing.deletedAt) throw new CliError(`client ${clientId} was deleted`);
    const client = existing.disabledAt ? existing : await registrar.disable(clientId).catch(explain);
    if (values.json) return printJson(io, withStatus(client));
    io.out.write(
      existing.disabledAt
        ? `Client ${clientId} was already disabled (since ${existing.disabledAt.toISOString()}).\n`
        : `Disabled client ${clientId}; tokens issued to it no longer work.\n`,
    );
  },
};

const rotateSecret: Command = {
  name: 'clients rotate-secret',
  synopsis: '<client_id> [--revoke-tokens] [--json]',
  summary: 'give a client a new secret (the old one stops working); prints it once',
  details: ['--revoke-tokens        also revoke every token issued to the client so far'],
  options: { 'revoke-tokens': { type: 'boolean' }, ...JSON_OPTION },
  positionals: ['client_id'],
  async run(ctx, { values, args: [clientId] }, io) {
    const { clients, registrar } = services(ctx);
    const existing = await findOrFail(clients, clientId);
    const revokeTokens = values['revoke-tokens'] === true;
    const { client, clientSecret } = await registrar.rotateSecret(clientId, revokeTokens).catch(explain);
    if (existing.disabledAt) io.err.write(`note: client ${clientId} is disabled; it cannot authenticate with any secret while disabled\n`);
    if (values.json) return printJson(io, { ...clientResponse(client, clientSecret), tokens_revoked: revokeTokens });
    io.out.write(
      [
        `New secret for client ${clientId}`,
        `  client_secret:  ${clientSecret ?? '(none: a public client)'}`,
        revokeTokens ? 'Tokens issued to the client so far are revoked.' : 'Tokens already issued stay valid until they expire (use --revoke-tokens to revoke them).',
        'Store the client secret now: it is not shown again.',
        '',
      ].join('\n'),
    );
  },
};

const setResourceServer: Command = {
  name: 'clients set-resource-server',
  synopsis: '<client_id> (--resource-server-for URI ... | --none) [--json]',
  summary: 'give a confidential client the resource-server role for its resources (introspection and the revocation feed), or take it away',
  details: [
    '--resource-server-for URI   a resource identifier (audience) the client serves; repeatable; replaces the ones it had',
    '--none                      no longer a resource server',
  ],
  options: { 'resource-server-for': { type: 'string', multiple: true }, none: { type: 'boolean' }, ...JSON_OPTION },
  positionals: ['client_id'],
  async run(ctx, { values, args: [clientId] }, io) {
    const resources = values['resource-server-for'] as string[] | undefined;
    if ((resources === undefined) === (values.none !== true)) throw new CliError('give --resource-server-for URI (repeatable) or --none', 2);
    const { clients, registrar } = services(ctx);
    await findOrFail(clients, clientId);
    const client = await registrar.setResourceServerFor(clientId, resources ?? []).catch(explain);
    if (values.json) return printJson(io, withStatus(client));
    io.out.write(
      client.resourceServerFor.length > 0
        ? `Client ${clientId} is the resource server for ${client.resourceServerFor.join(' ')}.\n`
        : `Client ${clientId} is no resource server.\n`,
    );
  },
};

const show: Command = {
  name: 'clients show',
  synopsis: '<client_id> [--json]',
  summary: "show a client's settings and status (never its secret)",
  details: ['--json                 print the RFC 7591 metadata with its status as JSON', 'An id starting with "-" works as it is, or after `--`.'],
  options: { ...JSON_OPTION },
  positionals: ['client_id'],
  async run(ctx, { values, args: [clientId] }, io) {
    const client = await findOrFail(services(ctx).clients, clientId);
    if (values.json) return printJson(io, withStatus(client));
    io.out.write([`Client ${shownName(client)}`, ...describe(client), ''].join('\n'));
  },
};

const UPDATE_FLAGS = ['name', 'scope', 'grant-types', 'auth-method', 'format', 'ttl', 'resource', 'resource-server-for', 'redirect-uri'];

const update: Command = {
  name: 'clients update',
  synopsis:
    '<client_id> [--name NAME] [--scope "a b"] [--grant-types LIST] [--auth-method METHOD] [--redirect-uri URI ...] [--format opaque|jwt] ' +
    '[--ttl SECONDS|default] [--resource URI ...] [--resource-server-for URI ...] [--json]',
  summary: "change a client's settings: each flag given replaces that setting, the others stay; validated as at registration",
  details: [
    'The flags of `clients create`; a repeatable flag replaces the whole list. --ttl default: the server default.',
    'A client that becomes public (--auth-method none) loses its secret; one that stops being public gets a new',
    'secret, printed once. Tokens already issued are left alone (`clients rotate-secret --revoke-tokens` revokes them).',
    '--json                 print the client as JSON (with client_secret when a new one was issued)',
  ],
  options: { ...create.options },
  positionals: ['client_id'],
  async run(ctx, { values, args: [clientId] }, io) {
    if (!UPDATE_FLAGS.some((f) => values[f] !== undefined)) throw new CliError(`give at least one setting to change (--${UPDATE_FLAGS.join(', --')})`, 2);
    const { clients, registrar } = services(ctx);
    const existing = await findOrFail(clients, clientId);
    if (existing.deletedAt) throw new CliError(`client ${clientId} was deleted`);
    const given = Object.fromEntries(Object.entries(metadataFrom({ ...values, ttl: values.ttl === 'default' ? undefined : values.ttl })).filter(([, v]) => v !== undefined));
    const current = clientResponse(existing, null);
    const merged: Record<string, unknown> = { ...current, ...given };
    if (values.ttl === 'default') delete merged.access_token_lifetime;
    // Judged whole, as at registration: e.g. a client keeps its grant types when only given redirect URIs.
    let result: Awaited<ReturnType<ClientRegistrar['update']>>;
    try {
      const metadata = parseClientMetadata(merged, { grantTypes: ctx.grants, maxAccessTokenTtl: ctx.tokens.maxAccessTokenTtl });
      result = await registrar.update(clientId, metadata);
    } catch (e) {
      explain(e);
    }
    const { client, clientSecret } = result;
    if (values.json) return printJson(io, { ...withStatus(client), ...(clientSecret ? { client_secret: clientSecret, client_secret_expires_at: 0 } : {}) });
    io.out.write(
      [
        `Updated client ${shownName(client)}`,
        ...describe(client),
        ...(clientSecret ? [`  client_secret:  ${clientSecret}`, 'Store the client secret now: it is not shown again (only its hash is kept).'] : []),
        ...(existing.secretHash !== null && client.secretHash === null ? ['The client is public now: its secret no longer works.'] : []),
        '',
      ].join('\n'),
    );
  },
};

const enable: Command = {
  name: 'clients enable',
  synopsis: '<client_id> [--json]',
  summary: 'enable a disabled client again (tokens revoked when it was disabled stay revoked; a deleted client stays deleted)',
  options: { ...JSON_OPTION },
  positionals: ['client_id'],
  async run(ctx, { values, args: [clientId] }, io) {
    const { clients, registrar } = services(ctx);
    const existing = await findOrFail(clients, clientId);
    if (existing.deletedAt) throw new CliError(`client ${clientId} was deleted; it cannot be enabled again`);
    const client = existing.disabledAt ? await registrar.enable(clientId).catch(explain) : existing;
    if (values.json) return printJson(io, withStatus(client));
    io.out.write(existing.disabledAt ? `Enabled client ${clientId}; tokens revoked while it was disabled stay revoked.\n` : `Client ${clientId} was not disabled.\n`);
  },
};

const remove: Command = {
  name: 'clients delete',
  synopsis: '<client_id> [--json]',
  summary: 'delete a client for good: it can no longer authenticate or be managed, and its tokens are revoked',
  details: [
    'As RFC 7592 DELETE does: the client is disabled for good, its secret and registration access token are dropped,',
    'and every token issued to it is revoked through the revocation log, so resource servers following the',
    'revocation feed refuse them too. Its record stays (status deleted), so its client_id is never accepted again.',
    '--json                 print the client as JSON',
  ],
  options: { ...JSON_OPTION },
  positionals: ['client_id'],
  async run(ctx, { values, args: [clientId] }, io) {
    const { clients, registrar } = services(ctx);
    const existing = await findOrFail(clients, clientId);
    if (existing.deletedAt) throw new CliError(`client ${clientId} was already deleted (at ${existing.deletedAt.toISOString()})`);
    const client = await registrar.delete(clientId).catch(explain);
    if (values.json) return printJson(io, withStatus(client));
    io.out.write(`Deleted client ${clientId}; it can no longer authenticate or be managed, and its tokens no longer work.\n`);
  },
};

export const clientCommands: Command[] = [create, list, show, update, rotateSecret, setResourceServer, disable, enable, remove];
