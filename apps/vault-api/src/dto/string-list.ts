import { applyDecorators } from '@nestjs/common';
import { ArrayMaxSize, IsArray, IsOptional, IsString, MaxLength } from 'class-validator';

/** An optional list of at most `items` strings of at most `length` characters each (scopes, URLs). */
export function OptionalStringList(items: number, length: number): PropertyDecorator {
  return applyDecorators(
    IsOptional(),
    IsArray(),
    ArrayMaxSize(items),
    IsString({ each: true }),
    MaxLength(length, { each: true }),
  );
}
