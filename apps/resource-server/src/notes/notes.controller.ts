import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Put, Query, Res, UseGuards } from '@nestjs/common';
import { RequireScopes, TokenGuard, VerifiedToken, type VerifiedAccessToken } from '@tessera/token-guard';
import type { FastifyReply } from 'fastify';
import { parseNote, parseNoteId, parseNotePatch, parsePage } from './note-input.js';
import { NotesService } from './notes.service.js';

/** The caller's own notes. Reading needs `notes:read`, changing needs `notes:write`. */
@Controller('api/notes')
@UseGuards(TokenGuard)
export class NotesController {
  constructor(private readonly notes: NotesService) {}

  @Get()
  @RequireScopes('notes:read')
  list(@VerifiedToken() token: VerifiedAccessToken, @Query() query: unknown) {
    return this.notes.list(token, parsePage(query));
  }

  @Get(':id')
  @RequireScopes('notes:read')
  get(@VerifiedToken() token: VerifiedAccessToken, @Param('id') id: string) {
    return this.notes.get(token, parseNoteId(id));
  }

  @Post()
  @HttpCode(201)
  @RequireScopes('notes:write')
  async create(@VerifiedToken() token: VerifiedAccessToken, @Body() body: unknown, @Res({ passthrough: true }) reply: FastifyReply) {
    const note = await this.notes.create(token, parseNote(body));
    void reply.header('Location', `/api/notes/${note.id}`);
    return note;
  }

  @Put(':id')
  @RequireScopes('notes:write')
  replace(@VerifiedToken() token: VerifiedAccessToken, @Param('id') id: string, @Body() body: unknown) {
    return this.notes.update(token, parseNoteId(id), parseNote(body));
  }

  @Patch(':id')
  @RequireScopes('notes:write')
  update(@VerifiedToken() token: VerifiedAccessToken, @Param('id') id: string, @Body() body: unknown) {
    return this.notes.update(token, parseNoteId(id), parseNotePatch(body));
  }

  @Delete(':id')
  @HttpCode(204)
  @RequireScopes('notes:write')
  delete(@VerifiedToken() token: VerifiedAccessToken, @Param('id') id: string) {
    return this.notes.delete(token, parseNoteId(id));
  }
}
