import { type ArgumentMetadata, Injectable, ParseUUIDPipe } from '@nestjs/common';
import { VaultError } from '@vault/core';

/**
 * A path ID must be a UUID (Nest's check: RFC 9562 versions 1-8, nil, max): anything else is a 400 naming
 * `id`, in our error JSON. The ID goes on lower-cased, as the database writes it.
 */
@Injectable()
export class UuidPipe extends ParseUUIDPipe {
  constructor() {
    super({ exceptionFactory: () => VaultError.validation('id', 'must be a UUID') });
  }

  /** Nest's own test of the pipe, for the token route, which checks its ID without a pipe. */
  static isUuid(value: unknown): value is string {
    return typeof value === 'string' && UuidPipe.uuidRegExps.all.test(value);
  }

  override async transform(value: string, metadata: ArgumentMetadata): Promise<string> {
    return ((await super.transform(value, metadata)) as string).toLowerCase();
  }
}
