import { postgresOptions } from '@tessera/persistence';
import { DataSource, type DataSourceOptions } from 'typeorm';
import { RegisteredClientEntity } from '../introspection/registered-client.entity.js';
import { NoteEntity } from '../notes/note.entity.js';
import { NotesSchema1767312000000 } from './migrations/1767312000000-notes-schema.migration.js';

/**
 * The resource server's own database: its notes and the client it registered.
 * It never touches the auth server's tables. Explicit lists, never globs.
 */
export const entities = [NoteEntity, RegisteredClientEntity];
export const migrations = [NotesSchema1767312000000];

export function dataSourceOptions(url: string): DataSourceOptions {
  return postgresOptions(url, { entities, migrations });
}

/** For scripts and migration generation (`typeorm migration:generate -d dist/.../data-source.js`); the app gets its own from TypeOrmModule. */
export function createDataSource(url: string): DataSource {
  return new DataSource(dataSourceOptions(url));
}
