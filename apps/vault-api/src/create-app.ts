import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import type { VaultConfig } from '@vault/core';
import { Logger } from 'nestjs-pino';
import { ApiModule } from './app.module';
import { TOKEN_ROUTE_OPENAPI, TokenRoute } from './controllers/token.route';
import { clientErrorHandler, frameworkErrors, refuseMalformedQuery } from './http/framework-errors';
import { UnsafeInputPipe } from './http/unsafe-input.pipe';
import { vaultValidationPipe } from './http/validation';

/** Builds the API application (without listening), as main.ts, the tests and the OpenAPI writer use it. */
export async function createApiApp(
  config: VaultConfig,
  options: { bufferLogs?: boolean } = {},
): Promise<{ app: NestFastifyApplication; openapi: OpenAPIObject }> {
  const adapter = new FastifyAdapter({
    bodyLimit: config.BODY_LIMIT_BYTES,
    trustProxy: true,
    return503OnClosing: true,
    frameworkErrors,
    clientErrorHandler,
  });
  const app = await NestFactory.create<NestFastifyApplication>(ApiModule.forRoot(config), adapter, {
    bufferLogs: options.bufferLogs ?? true,
  });
  app.useLogger(app.get(Logger));
  const fastify = app.getHttpAdapter().getInstance();
  fastify.addHook('onRequest', refuseMalformedQuery);
  app.get(TokenRoute).register(fastify);
  // Bodies are JSON only: a text/plain body answers 415, not a validation error about its fields.
  fastify.removeContentTypeParser('text/plain');
  app.useGlobalPipes(new UnsafeInputPipe(), vaultValidationPipe());
  app.enableShutdownHooks();
  const openapi = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Credential vault')
      .setDescription('Stores OAuth grants envelope-encrypted and serves valid access tokens.')
      .setVersion('1')
      .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'An API key' })
      .build(),
  );
  // The token route is Fastify's own (see TokenRoute): its entry is written by hand, first as before.
  openapi.paths = { ...TOKEN_ROUTE_OPENAPI, ...openapi.paths };
  SwaggerModule.setup('docs', app, openapi);
  return { app, openapi };
}
