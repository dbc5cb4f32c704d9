import { ApiError } from '../http/api-error.js';
import { BODY_MAX, TITLE_MAX, parseNote, parseNoteId, parseNotePatch, parsePage } from './note-input.js';

function errorOf(work: () => unknown): { status: number; code: string; description: string } {
  try {
    work();
  } catch (e) {
    expect(e).toBeInstanceOf(ApiError);
    const { status, code, description } = e as ApiError;
    return { status, code, description };
  }
  throw new Error('expected an ApiError');
}

const bad = (description: string) => ({ status: 400, code: 'invalid_request', description });

describe('parseNote (POST, PUT)', () => {
  it('takes a title and an optional body', () => {
    expect(parseNote({ title: 'Groceries', body: 'milk' })).toEqual({ title: 'Groceries', body: 'milk' });
    expect(parseNote({ title: 'Groceries' })).toEqual({ title: 'Groceries', body: '' });
  });

  it('counts characters, not UTF-16 units or bytes', () => {
    const emoji = '😀'.repeat(TITLE_MAX);
    expect(parseNote({ title: emoji }).title).toBe(emoji);
    expect(errorOf(() => parseNote({ title: `${emoji}x` }))).toEqual(bad(`title must be at most ${TITLE_MAX} characters`));
    expect(errorOf(() => parseNote({ title: 't', body: 'b'.repeat(BODY_MAX + 1) }))).toEqual(bad(`body must be at most ${BODY_MAX} characters`));
  });

  it.each([
    [undefined, 'the request body must be a JSON object'],
    [null, 'the request body must be a JSON object'],
    [[{ title: 'x' }], 'the request body must be a JSON object'],
    ['title', 'the request body must be a JSON object'],
    [{}, 'title is required'],
    [{ body: 'x' }, 'title is required'],
    [{ title: 42 }, 'title must be a string'],
    [{ title: null }, 'title must be a string'],
    [{ title: '   ' }, 'title must not be blank'],
    [{ title: '' }, 'title must not be blank'],
    [{ title: 'x', body: ['b'] }, 'body must be a string'],
    [{ title: 'x', owner: 'someone-else' }, 'unknown field owner; a note has title and body'],
    [{ title: 'a\u0000b' }, 'title contains characters that are not allowed'],
    [{ title: 'x', body: 'lone \ud800 surrogate' }, 'body contains characters that are not allowed'],
  ])('refuses %j: %s', (input, description) => {
    expect(errorOf(() => parseNote(input))).toEqual(bad(description));
  });
});

describe('parseNotePatch (PATCH)', () => {
  it('takes either field or both', () => {
    expect(parseNotePatch({ title: 'New' })).toEqual({ title: 'New' });
    expect(parseNotePatch({ body: '' })).toEqual({ body: '' });
    expect(parseNotePatch({ title: 'New', body: 'b' })).toEqual({ title: 'New', body: 'b' });
  });

  it('refuses an empty change and bad fields', () => {
    expect(errorOf(() => parseNotePatch({}))).toEqual(bad('nothing to change: send title and/or body'));
    expect(errorOf(() => parseNotePatch({ title: '' }))).toEqual(bad('title must not be blank'));
    expect(errorOf(() => parseNotePatch({ id: 'x' }))).toEqual(bad('unknown field id; a note has title and body'));
  });
});

describe('parseNoteId', () => {
  it('accepts a UUID in either case', () => {
    expect(parseNoteId('0F8FAD5B-D9CB-469F-A165-70867728950E')).toBe('0f8fad5b-d9cb-469f-a165-70867728950e');
  });

  it.each(['1', 'not-a-uuid', "'; DROP TABLE notes; --", '0f8fad5b-d9cb-469f-a165-70867728950e0'])('treats %j as not found', (id) => {
    expect(errorOf(() => parseNoteId(id))).toEqual({ status: 404, code: 'not_found', description: 'no such note' });
  });
});

describe('parsePage', () => {
  it('defaults to the first 100', () => {
    expect(parsePage({})).toEqual({ limit: 100, offset: 0 });
    expect(parsePage({ limit: '10', offset: '20' })).toEqual({ limit: 10, offset: 20 });
  });

  it.each([
    [{ limit: '0' }, 'limit must be a whole number from 1 to 100'],
    [{ limit: '101' }, 'limit must be a whole number from 1 to 100'],
    [{ limit: ['1', '2'] }, 'limit must be a whole number from 1 to 100'],
    [{ offset: '-1' }, 'offset must be a whole number from 0 to 1000000'],
    [{ offset: '1e3' }, 'offset must be a whole number from 0 to 1000000'],
    [{ sort: 'title' }, 'unknown query parameter sort'],
  ])('refuses %j', (query, description) => {
    expect(errorOf(() => parsePage(query))).toEqual(bad(description));
  });
});
