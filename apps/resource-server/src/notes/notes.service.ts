import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { Repository } from 'typeorm';
import { ApiError } from '../http/api-error.js';
import { withOutageAs503 } from '../database/outage.js';
import type { NoteContent } from './note-input.js';
import { NoteEntity } from './note.entity.js';

/** Whose notes: a token's `iss` and `sub`. Every query is scoped to one owner. */
export interface Owner {
  issuer: string;
  subject: string;
}

/** A note as the API returns it. */
export interface NoteView {
  id: string;
  title: string;
  body: string;
  created_at: string;
  updated_at: string;
}

@Injectable()
export class NotesService {
  constructor(@InjectRepository(NoteEntity) private readonly notes: Repository<NoteEntity>) {}

  list(owner: Owner, page: { limit: number; offset: number }): Promise<{ notes: NoteView[] }> {
    return withOutageAs503(async () => {
      const notes = await this.notes.find({
        where: ownedBy(owner),
        order: { createdAt: 'ASC', id: 'ASC' },
        take: page.limit,
        skip: page.offset,
      });
      return { notes: notes.map(view) };
    });
  }

  get(owner: Owner, id: string): Promise<NoteView> {
    return withOutageAs503(async () => view(await this.find(owner, id)));
  }

  create(owner: Owner, content: NoteContent): Promise<NoteView> {
    return withOutageAs503(async () => view(await this.notes.save(this.notes.create({ ...ownedBy(owner), ...content }))));
  }

  /** PATCH (some fields) and PUT (all of them). An UPDATE, never an upsert: a note deleted meanwhile stays deleted. */
  update(owner: Owner, id: string, changes: Partial<NoteContent>): Promise<NoteView> {
    return withOutageAs503(async () => {
      const { affected } = await this.notes.update({ id, ...ownedBy(owner) }, changes);
      if (!affected) throw ApiError.notFound('no such note');
      return view(await this.find(owner, id));
    });
  }

  delete(owner: Owner, id: string): Promise<void> {
    return withOutageAs503(async () => {
      const { affected } = await this.notes.delete({ id, ...ownedBy(owner) });
      if (!affected) throw ApiError.notFound('no such note');
    });
  }

  private async find(owner: Owner, id: string): Promise<NoteEntity> {
    const note = await this.notes.findOneBy({ id, ...ownedBy(owner) });
    // Someone else's note is not found either: its existence is not disclosed.
    if (!note) throw ApiError.notFound('no such note');
    return note;
  }
}

function ownedBy(owner: Owner): Owner {
  return { issuer: owner.issuer, subject: owner.subject };
}

function view(note: NoteEntity): NoteView {
  return {
    id: note.id,
    title: note.title,
    body: note.body,
    created_at: note.createdAt.toISOString(),
    updated_at: note.updatedAt.toISOString(),
  };
}
