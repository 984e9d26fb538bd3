import { type ArgumentsHost, Catch, type ExceptionFilter, Logger } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { errorAnswer, sendErrorAnswer } from './error-answer';

/** Answers every error of a Nest route in our shape (see errorAnswer). */
@Catch()
export class VaultErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

  catch(exception: unknown, host: ArgumentsHost): void {
    sendErrorAnswer(host.switchToHttp().getResponse<FastifyReply>(), errorAnswer(exception, this.logger));
  }
}
