import { Body, Controller, Get, Inject, Post, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiQuery, ApiTags } from '@nestjs/swagger';
import { ConnectSessionsService, Public, RequireScope, type Principal } from '@vault/core';
import type { FastifyReply } from 'fastify';
import { StartConnectSessionDto, toStartConnectSession } from '../dto/connect-session.dto';
import { Audited } from '../http/audit.interceptor';
import { Caller } from '../http/principal.decorator';

/** Connect sessions: the vault runs the OAuth authorization-code flow (PKCE) for the platform. */
@ApiTags('connect')
@Controller('v1')
export class ConnectController {
  constructor(@Inject(ConnectSessionsService) private readonly sessions: ConnectSessionsService) {}

  @Post('connect-sessions')
  @ApiBearerAuth()
  @RequireScope('connections:write')
  @Audited('connect_session.started', (_, r) => ({ target: r?.id }))
  async start(@Caller() caller: Principal, @Body() body: StartConnectSessionDto) {
    const s = await this.sessions.start(caller, toStartConnectSession(body));
    return { id: s.id, authorize_url: s.authorizeUrl, expires_at: s.expiresAt.toISOString() };
  }

  /** The redirect URI: no API key, the state authenticates. Answers 303 to the session's return URL. */
  @Get('oauth/callback')
  @Public()
  @ApiQuery({ name: 'state', required: false })
  @ApiQuery({ name: 'code', required: false })
  @ApiQuery({ name: 'error', required: false })
  async callback(
    @Query('state') state: string | undefined,
    @Query('code') code: string | undefined,
    @Query('error') error: string | undefined,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const location = await this.sessions.complete({ state: one(state), code: one(code), error: one(error) });
    await reply.status(303).header('location', location).header('cache-control', 'no-store').send();
  }
}

/** A repeated query parameter arrives as an array: only a single value counts. */
function one(v: unknown): string | undefined {
  return typeof v === 'string' && v.length > 0 && v.length <= 4096 ? v : undefined;
}
