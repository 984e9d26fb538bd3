import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Controller, Get, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { Public } from '@vault/core';
import type { FastifyReply } from 'fastify';

/** The page's three files (apps/vault-api/src/dashboard; `nest build` copies them beside the compiled code). */
const DIR = join(__dirname, '..', 'dashboard');
const FILES = {
  'index.html': 'text/html; charset=utf-8',
  'dashboard.js': 'text/javascript; charset=utf-8',
  'dashboard.css': 'text/css; charset=utf-8',
} as const;
type Asset = keyof typeof FILES;

/**
 * Scripts and styles from this origin only, no inline code, and API calls to this origin only: a value shown
 * on the page can never run as code, and the page cannot be framed.
 */
const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * `/dashboard`: the built-in read-only page (static HTML and JavaScript calling the v1 API). The files are
 * public; every number on the page comes from the API with the key the person types in.
 */
@ApiExcludeController()
@Public()
@Controller('dashboard')
export class DashboardController {
  private readonly assets = new Map<Asset, Buffer>(
    (Object.keys(FILES) as Asset[]).map((name) => [name, readFileSync(join(DIR, name))]),
  );

  @Get()
  page(@Res() reply: FastifyReply): void {
    this.send(reply, 'index.html');
  }

  @Get('dashboard.js')
  script(@Res() reply: FastifyReply): void {
    this.send(reply, 'dashboard.js');
  }

  @Get('dashboard.css')
  style(@Res() reply: FastifyReply): void {
    this.send(reply, 'dashboard.css');
  }

  private send(reply: FastifyReply, name: Asset): void {
    void reply
      .header('content-type', FILES[name])
      .header('content-security-policy', CSP)
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer')
      .header('cache-control', 'no-cache')
      .send(this.assets.get(name));
  }
}
