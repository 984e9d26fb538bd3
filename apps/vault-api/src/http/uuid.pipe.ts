import { Injectable, type PipeTransform } from '@nestjs/common';
import { VaultError } from '@vault/core';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A path ID must be a UUID: anything else is a 400 naming `id`. */
@Injectable()
export class UuidPipe implements PipeTransform<string, string> {
  transform(value: string): string {
    if (!UUID.test(value)) throw VaultError.validation('id', 'must be a UUID');
    return value.toLowerCase();
  }
}
