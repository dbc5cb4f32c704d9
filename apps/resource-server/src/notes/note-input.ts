// What a caller may send to /api/notes, validated. Anything else is a 400 naming the problem.
import { ApiError } from '../http/api-error.js';

export const TITLE_MAX = 200;
export const BODY_MAX = 10_000;
export const LIST_LIMIT_MAX = 100;

export interface NoteContent {
  title: string;
  body: string;
}

const FIELDS = ['title', 'body'];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** POST and PUT: a whole note (`body` defaults to ""). */
export function parseNote(input: unknown): NoteContent {
  const fields = object(input);
  if (fields.title === undefined) throw ApiError.invalidRequest('title is required');
  return { title: title(fields.title), body: fields.body === undefined ? '' : body(fields.body) };
}

/** PATCH: some of the fields, at least one. */
export function parseNotePatch(input: unknown): Partial<NoteContent> {
  const fields = object(input);
  if (fields.title === undefined && fields.body === undefined) throw ApiError.invalidRequest('nothing to change: send title and/or body');
  return {
    ...(fields.title !== undefined ? { title: title(fields.title) } : {}),
    ...(fields.body !== undefined ? { body: body(fields.body) } : {}),
  };
}

/** A note id from the path; anything that cannot be one is simply not found. */
export function parseNoteId(id: string): string {
  if (!UUID.test(id)) throw ApiError.notFound('no such note');
  return id.toLowerCase();
}

/** `?limit=&offset=` of the list. */
export function parsePage(query: unknown): { limit: number; offset: number } {
  const q = (typeof query === 'object' && query !== null ? query : {}) as Record<string, unknown>;
  const unknown = Object.keys(q).filter((k) => k !== 'limit' && k !== 'offset');
  if (unknown.length > 0) throw ApiError.invalidRequest(`unknown query parameter ${unknown[0]}`);
  return { limit: whole(q.limit, 'limit', 1, LIST_LIMIT_MAX, LIST_LIMIT_MAX), offset: whole(q.offset, 'offset', 0, 1_000_000, 0) };
}

function object(input: unknown): Record<string, unknown> {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw ApiError.invalidRequest('the request body must be a JSON object');
  }
  const unknown = Object.keys(input).filter((k) => !FIELDS.includes(k));
  if (unknown.length > 0) throw ApiError.invalidRequest(`unknown field ${unknown[0]}; a note has title and body`);
  return input as Record<string, unknown>;
}

function title(value: unknown): string {
  const s = text(value, 'title', TITLE_MAX);
  if (s.trim() === '') throw ApiError.invalidRequest('title must not be blank');
  return s;
}

function body(value: unknown): string {
  return text(value, 'body', BODY_MAX);
}

/** A string of at most `max` characters (code points, as PostgreSQL counts them) that PostgreSQL can store. */
function text(value: unknown, name: string, max: number): string {
  if (typeof value !== 'string') throw ApiError.invalidRequest(`${name} must be a string`);
  // PostgreSQL text cannot hold NUL, and a lone surrogate is not UTF-8.
  if (value.includes('\u0000') || /\p{Cs}/u.test(value)) throw ApiError.invalidRequest(`${name} contains characters that are not allowed`);
  let length = 0;
  for (const _ of value) if (++length > max) throw ApiError.invalidRequest(`${name} must be at most ${max} characters`);
  return value;
}

function whole(value: unknown, name: string, min: number, max: number, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (typeof value !== 'string' || !/^\d{1,7}$/.test(value) || n < min || n > max) {
    throw ApiError.invalidRequest(`${name} must be a whole number from ${min} to ${max}`);
  }
  return n;
}
