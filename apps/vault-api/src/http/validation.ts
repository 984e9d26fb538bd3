import { ValidationPipe, type ValidationError } from '@nestjs/common';
import { VaultError } from '@vault/core';

/**
 * Validates every body and query against its DTO: unknown fields are refused, and the first failure answers
 * 400 `validation_failed` naming the field at fault.
 */
export function vaultValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    stopAtFirstError: true,
    validationError: { target: false, value: false },
    exceptionFactory: (errors: ValidationError[]) => {
      const { field, message } = firstProblem(errors, '');
      return new VaultError('validation_failed', `${field}: ${message}`, { field });
    },
  });
}

function firstProblem(errors: ValidationError[], prefix: string): { field: string; message: string } {
  for (const e of errors) {
    const field = prefix ? `${prefix}.${e.property}` : e.property;
    const constraint = e.constraints ? Object.values(e.constraints)[0] : undefined;
    if (constraint) return { field, message: constraint.replace(/^property \S+ /, '') };
    if (e.children?.length) return firstProblem(e.children, field);
  }
  return { field: prefix || 'body', message: 'is not valid' };
}
