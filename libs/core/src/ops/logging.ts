import { RequestMethod } from '@nestjs/common';
import type { Params } from 'nestjs-pino';
import type { VaultConfig } from '../config/vault-config';

/** Paths pino removes from every log line: credentials in headers and any token or secret field. */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'res.headers["set-cookie"]',
  '*.access_token',
  '*.refresh_token',
  '*.client_secret',
  '*.accessToken',
  '*.refreshToken',
  '*.clientSecret',
  '*.key',
  '*.secret',
  '*.password',
  'access_token',
  'refresh_token',
  'client_secret',
  'accessToken',
  'refreshToken',
  'clientSecret',
];

/** Structured JSON logs (pino) with redaction; request lines carry method, route, status and time only. */
export function loggerParams(config: VaultConfig, processName: string): Params {
  return {
    // The token read is the hot path: its answers are counted and timed in metrics, not logged per request
    // (errors are still logged by the error filter).
    exclude: [{ method: RequestMethod.GET, path: 'v1/connections/:id/token' }],
    pinoHttp: {
      level: config.LOG_LEVEL,
      base: { process: processName },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      // Query strings never carry secrets in this API, but strip them anyway: URLs end up in many places.
      serializers: {
        req: (req: { method?: string; url?: string; id?: unknown }) => ({
          id: req.id,
          method: req.method,
          url: typeof req.url === 'string' ? req.url.split('?')[0] : undefined,
        }),
      },
      autoLogging: { ignore: (req) => (req.url ?? '').startsWith('/health') || req.url === '/metrics' },
      customLogLevel: (_req, res, err) =>
        err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info',
    },
  };
}
