// The /docs page: the OpenAPI document rendered on the server as plain HTML (no script, no CDN), under the
// same kind of Content-Security-Policy as the sign-in pages. <details> makes operations collapsible without script.
import { escapeHtml, html, SafeHtml } from '../interaction/html.js';
import { HTTP_METHODS, type Header, type JsonSchema, type MediaType, type OpenApiDocument, type Operation, type Parameter, type Ref, type Response } from './openapi.types.js';
import { OPENAPI_PATHS } from './openapi.document.js';

export const DOCS_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-cache',
  'content-security-policy': "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'same-origin',
};

type Components = OpenApiDocument['components'];

function isRef(value: object): value is Ref {
  return '$ref' in value && typeof (value as Ref).$ref === 'string';
}

/** The component a `#/components/<kind>/<name>` reference names. */
function resolve<T extends object>(doc: OpenApiDocument, value: T | Ref): T {
  if (!isRef(value)) return value;
  const [, , kind, name] = value.$ref.split('/');
  const found = (doc.components[kind as keyof Components] as Record<string, unknown> | undefined)?.[name];
  if (found === undefined) throw new Error(`unresolved reference ${value.$ref}`);
  return found as T;
}

/** Text with `code` spans (the descriptions' only markup). */
function prose(text: string | undefined): SafeHtml {
  if (!text) return html``;
  const parts = text.split('`').map((part, i) => (i % 2 === 1 ? html`<code>${part}</code>` : html`${part}`));
  return html`${parts}`;
}

function paragraphs(text: string | undefined): SafeHtml {
  if (!text) return html``;
  return html`${text.split('\n\n').map((p) => html`<p>${prose(p)}</p>`)}`;
}

/** A short, readable type: `string`, `"Bearer"`, `array of ResourceIndicator`, `A | B`. */
function typeOf(schema: JsonSchema): SafeHtml {
  if (schema.$ref) {
    const name = schema.$ref.split('/').pop()!;
    return html`<a href="#schema-${name}">${name}</a>`;
  }
  if (schema.const !== undefined) return html`<code>${JSON.stringify(schema.const)}</code>`;
  if (schema.enum) return html`${schema.enum.map((v, i) => html`${i > 0 ? ' | ' : ''}<code>${JSON.stringify(v)}</code>`)}`;
  const alternatives = schema.oneOf ?? schema.anyOf;
  if (alternatives) return html`${alternatives.map((s, i) => html`${i > 0 ? ' | ' : ''}${s.title ?? typeOf(s)}`)}`;
  if (schema.type === 'array') return html`array of ${schema.items ? typeOf(schema.items) : 'any'}`;
  const type = Array.isArray(schema.type) ? schema.type.join(' | ') : (schema.type ?? 'any');
  return html`${type}${schema.pattern ? html` <span class="muted">matching <code>${schema.pattern}</code></span>` : ''}`;
}

function propertiesTable(schema: JsonSchema): SafeHtml {
  const properties = Object.entries(schema.properties ?? {});
  if (properties.length === 0) return html``;
  const required = new Set(schema.required ?? []);
  return html`<table><thead><tr><th>Name</th><th>Type</th><th>Description</th></tr></thead><tbody>${properties.map(
    ([name, p]) =>
      html`<tr><td><code>${name}</code>${required.has(name) ? html` <span class="req">required</span>` : ''}</td><td>${typeOf(p)}</td><td>${prose(p.description)}</td></tr>`,
  )}</tbody></table>`;
}

/** An object schema as a table; a choice of objects (`oneOf`) as one table each; anything else as its type. */
function schemaBlock(doc: OpenApiDocument, schema: JsonSchema): SafeHtml {
  const alternatives = schema.oneOf;
  if (alternatives && alternatives.every((s) => s.properties)) {
    return html`<p class="muted">One of:</p>${alternatives.map((s) => {
      const discriminator = Object.entries(s.properties!).find(([, p]) => p.const !== undefined && typeof p.const === 'string');
      const title = s.title ?? (discriminator ? `${discriminator[0]}=${String(discriminator[1].const)}` : 'object');
      return html`<h5>${title}</h5>${paragraphs(s.description)}${propertiesTable(s)}`;
    })}`;
  }
  if (schema.properties && !schema.$ref) return html`${paragraphs(schema.description)}${propertiesTable(schema)}`;
  // A shared schema narrowed here (an error body whose `error` is one of this response's codes).
  const narrowed = Object.entries(schema.$ref ? (schema.properties ?? {}) : {});
  return html`<p>${typeOf(schema)}${narrowed.map(([name, p], i) => html`${i === 0 ? ', with ' : ', '}<code>${name}</code>: ${typeOf(p)}`)}</p>`;
}

function json(value: unknown): SafeHtml {
  // Newlines are kept (the html tag would strip them as control characters); the text is escaped.
  return new SafeHtml(`<pre>${escapeHtml(JSON.stringify(value, null, 2))}</pre>`);
}

function content(doc: OpenApiDocument, media: Record<string, MediaType> | undefined): SafeHtml {
  if (!media) return html``;
  return html`${Object.entries(media).map(
    ([type, m]) =>
      html`<div class="media"><p><span class="media-type">${type}</span></p>${schemaBlock(doc, m.schema)}${Object.entries(m.examples ?? {}).map(
        ([name, ex]) => html`<p class="muted">Example: ${ex.summary ?? name}</p>${json(ex.value)}`,
      )}</div>`,
  )}`;
}

function parametersTable(doc: OpenApiDocument, parameters: (Parameter | Ref)[] | undefined): SafeHtml {
  if (!parameters || parameters.length === 0) return html``;
  return html`<h4>Parameters</h4><table><thead><tr><th>Name</th><th>In</th><th>Type</th><th>Description</th></tr></thead><tbody>${parameters.map((ref) => {
    const p = resolve(doc, ref);
    return html`<tr><td><code>${p.name}</code>${p.required ? html` <span class="req">required</span>` : ''}</td><td>${p.in}</td><td>${typeOf(p.schema)}${p.explode && p.schema.type === 'array' ? ' (repeated)' : ''}</td><td>${prose(p.description)}</td></tr>`;
  })}</tbody></table>`;
}

function headersList(doc: OpenApiDocument, headers: Record<string, Header | Ref> | undefined): SafeHtml {
  const entries = Object.entries(headers ?? {});
  if (entries.length === 0) return html``;
  return html`<ul class="headers">${entries.map(([name, ref]) => {
    const h = resolve(doc, ref);
    return html`<li><code>${name}</code>: ${typeOf(h.schema)}${h.description ? html` <span class="muted">${prose(h.description)}</span>` : ''}</li>`;
  })}</ul>`;
}

function security(doc: OpenApiDocument, op: Operation): SafeHtml {
  if (!op.security || op.security.length === 0) return html`<p class="muted">No authentication.</p>`;
  const names = op.security.map((requirement) => {
    const schemes = Object.keys(requirement);
    if (schemes.length === 0) return html`none in a header (credentials in the body, or a public client)`;
    return html`${schemes.map((s) => {
      const scheme = doc.components.securitySchemes[s];
      return html`<code>${s}</code>${scheme ? html` <span class="muted">(${scheme.type === 'http' ? `HTTP ${scheme.scheme}` : `${scheme.in} ${scheme.name}`})</span>` : ''}`;
    })}`;
  });
  return html`<p><strong>Authentication</strong>: ${names.map((n, i) => html`${i > 0 ? ', or ' : ''}${n}`)}.</p>`;
}

function operationSection(doc: OpenApiDocument, path: string, method: string, op: Operation): SafeHtml {
  return html`<details class="operation" id="${op.operationId}">
<summary><span class="method ${method}">${method.toUpperCase()}</span> <code class="path">${path}</code> <span class="summary">${op.summary}</span></summary>
<div class="body">
${paragraphs(op.description)}
${security(doc, op)}
${parametersTable(doc, op.parameters)}
${op.requestBody ? html`<h4>Request body${op.requestBody.required ? ' (required)' : ''}</h4>${content(doc, op.requestBody.content)}` : ''}
<h4>Responses</h4>
${Object.entries(op.responses).map(([status, ref]) => {
  const r: Response = resolve(doc, ref);
  const shared = isRef(ref) ? html` <span class="muted">(${ref.$ref.split('/').pop()})</span>` : '';
  return html`<div class="response"><h5><span class="status s${status[0]}">${status}</span> ${prose(r.description)}${shared}</h5>${headersList(doc, r.headers)}${content(doc, r.content)}</div>`;
})}
</div>
</details>`;
}

export function docsPage(doc: OpenApiDocument): string {
  const operations = Object.entries(doc.paths).flatMap(([path, item]) =>
    HTTP_METHODS.flatMap((method) => (item[method] ? [{ path, method, op: item[method] }] : [])),
  );
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${doc.info.title} · API</title>
<link rel="stylesheet" href="${OPENAPI_PATHS.docsStylesheet}">
</head>
<body>
<header>
<h1>${doc.info.title} <span class="version">${doc.info.version}</span></h1>
${paragraphs(doc.info.description)}
<p>Server: <code>${doc.servers.map((s) => s.url).join(', ')}</code> · OpenAPI ${doc.openapi} document: <a href="${OPENAPI_PATHS.document}">${OPENAPI_PATHS.document}</a></p>
</header>
<nav><h2>Operations</h2>${doc.tags.map((tag) => {
    const tagged = operations.filter((o) => o.op.tags.includes(tag.name));
    return tagged.length === 0
      ? ''
      : html`<h3>${tag.name}</h3><ul>${tagged.map((o) => html`<li><a href="#${o.op.operationId}"><span class="method ${o.method}">${o.method.toUpperCase()}</span> ${o.path}</a> <span class="muted">${o.op.summary}</span></li>`)}</ul>`;
  })}</nav>
<main>
${doc.tags.map((tag) => {
    const tagged = operations.filter((o) => o.op.tags.includes(tag.name));
    return tagged.length === 0
      ? ''
      : html`<section><h2>${tag.name}</h2>${paragraphs(tag.description)}${tagged.map((o) => operationSection(doc, o.path, o.method, o.op))}</section>`;
  })}
<section><h2>Schemas</h2>${Object.entries(doc.components.schemas).map(
    ([name, schema]) => html`<div class="schema" id="schema-${name}"><h3>${name}</h3>${schemaBlock(doc, schema)}</div>`,
  )}</section>
</main>
</body>
</html>`.value;
}

export const DOCS_STYLESHEET = `
:root { color-scheme: light; --ink: #1d2330; --muted: #5b6475; --line: #dde2ea; --paper: #fff; --wash: #f3f5f9; --accent: #3346c8; }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 1100px; padding: 32px 20px; background: var(--wash); color: var(--ink);
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
h1 { font-size: 26px; margin: 0 0 8px; } h2 { font-size: 20px; margin: 32px 0 12px; } h3 { font-size: 16px; margin: 20px 0 8px; }
h4 { font-size: 14px; margin: 16px 0 6px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); } h5 { font-size: 14px; margin: 12px 0 6px; }
.version { font-size: 14px; color: var(--muted); font-weight: 500; }
code, pre { font: 13px/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
pre { background: var(--paper); border: 1px solid var(--line); border-radius: 6px; padding: 10px; overflow-x: auto; }
a { color: var(--accent); }
nav ul { list-style: none; padding: 0; margin: 0; } nav li { padding: 2px 0; }
.muted { color: var(--muted); }
.operation { background: var(--paper); border: 1px solid var(--line); border-radius: 8px; margin: 8px 0; }
.operation > summary { cursor: pointer; padding: 10px 14px; }
.operation .body { padding: 0 16px 12px; border-top: 1px solid var(--line); }
.method { display: inline-block; min-width: 52px; text-align: center; font-weight: 700; font-size: 12px; border-radius: 4px; padding: 1px 6px; color: #fff; background: #5b6475; }
.method.get { background: #1f7a4d; } .method.post { background: #3346c8; } .method.put { background: #a15c00; } .method.delete { background: #b42318; }
.path { font-weight: 600; }
.status { display: inline-block; font-weight: 700; border-radius: 4px; padding: 0 6px; background: var(--wash); }
.status.s2 { color: #1f7a4d; } .status.s3 { color: #3346c8; } .status.s4 { color: #a15c00; } .status.s5 { color: #b42318; }
.req { font-size: 11px; color: #b42318; }
table { border-collapse: collapse; width: 100%; margin: 6px 0; }
th, td { text-align: left; vertical-align: top; border-bottom: 1px solid var(--line); padding: 4px 8px; }
.media-type { font-family: ui-monospace, monospace; font-size: 13px; background: var(--wash); padding: 1px 6px; border-radius: 4px; }
.schema { background: var(--paper); border: 1px solid var(--line); border-radius: 8px; padding: 4px 16px 8px; margin: 8px 0; }
`;
