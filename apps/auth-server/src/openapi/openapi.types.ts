// The parts of OpenAPI 3.1 (https://spec.openapis.org/oas/v3.1.0) that Tessera's description uses, typed so
// that a misspelt field does not compile. Schemas are JSON Schema 2020-12, as OpenAPI 3.1 has them.

export interface Ref {
  $ref: string;
}

export type JsonType = 'string' | 'number' | 'integer' | 'boolean' | 'object' | 'array' | 'null';

export interface JsonSchema {
  $ref?: string;
  title?: string;
  description?: string;
  type?: JsonType | JsonType[];
  const?: unknown;
  enum?: unknown[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  minItems?: number;
  maxItems?: number;
  pattern?: string;
  format?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  oneOf?: JsonSchema[];
  anyOf?: JsonSchema[];
  allOf?: JsonSchema[];
  contentMediaType?: string;
  default?: unknown;
  examples?: unknown[];
  deprecated?: boolean;
  writeOnly?: boolean;
  readOnly?: boolean;
}

export interface Example {
  summary?: string;
  description?: string;
  value: unknown;
}

export interface MediaType {
  schema: JsonSchema;
  examples?: Record<string, Example>;
  /** For form bodies: how each property is serialized (a repeated `resource` is `style: form, explode: true`). */
  encoding?: Record<string, { style?: 'form'; explode?: boolean; contentType?: string }>;
}

export interface Header {
  description?: string;
  required?: boolean;
  schema: JsonSchema;
}

export interface Response {
  description: string;
  headers?: Record<string, Header | Ref>;
  content?: Record<string, MediaType>;
}

export interface Parameter {
  name: string;
  in: 'query' | 'header' | 'path' | 'cookie';
  description?: string;
  required?: boolean;
  schema: JsonSchema;
  style?: 'form' | 'simple';
  explode?: boolean;
  examples?: Record<string, Example>;
}

export interface RequestBody {
  description?: string;
  required?: boolean;
  content: Record<string, MediaType>;
}

/** One way of authenticating, by the name of a security scheme; all of a requirement's schemes at once. */
export type SecurityRequirement = Record<string, string[]>;

export interface Operation {
  operationId: string;
  summary: string;
  description?: string;
  tags: string[];
  parameters?: (Parameter | Ref)[];
  requestBody?: RequestBody;
  /** Keyed by status code ("200", "302", …). */
  responses: Record<string, Response | Ref>;
  /** Alternatives; `{}` is "no credentials in a header" (a public client, or credentials in the form). */
  security?: SecurityRequirement[];
  externalDocs?: { url: string; description?: string };
}

export const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'] as const;
export type HttpMethod = (typeof HTTP_METHODS)[number];

export type PathItem = Partial<Record<HttpMethod, Operation>> & { summary?: string; parameters?: (Parameter | Ref)[] };

export type SecurityScheme =
  | { type: 'http'; scheme: 'basic' | 'bearer'; description?: string }
  | { type: 'apiKey'; in: 'cookie' | 'header' | 'query'; name: string; description?: string };

export interface OpenApiDocument {
  openapi: '3.1.0';
  jsonSchemaDialect?: string;
  info: { title: string; version: string; description?: string; license?: { name: string; identifier?: string } };
  servers: { url: string; description?: string }[];
  tags: { name: string; description?: string }[];
  paths: Record<string, PathItem>;
  components: {
    schemas: Record<string, JsonSchema>;
    responses: Record<string, Response>;
    headers: Record<string, Header>;
    parameters: Record<string, Parameter>;
    securitySchemes: Record<string, SecurityScheme>;
  };
}
