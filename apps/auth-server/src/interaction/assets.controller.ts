import { Controller, Get, Header } from '@nestjs/common';
import { STYLESHEET } from './styles.js';

@Controller()
export class AssetsController {
  @Get('assets/tessera.css')
  @Header('content-type', 'text/css; charset=utf-8')
  @Header('cache-control', 'public, max-age=3600')
  @Header('x-content-type-options', 'nosniff')
  stylesheet(): string {
    return STYLESHEET;
  }
}
