import { Injectable, type ArgumentMetadata, type PipeTransform } from '@nestjs/common';
import { VaultError } from '@vault/core';

const CHECKED: ReadonlySet<ArgumentMetadata['type']> = new Set(['body', 'query', 'param']);
/** Deeper JSON than this is refused: validation and serialisation recurse, and no field of ours needs it. */
export const MAX_INPUT_DEPTH = 32;

/**
 * Runs before validation on every body, query and path parameter, and answers 400 `validation_failed` naming
 * the field for what would otherwise fail deep inside as a 500:
 * - a NUL byte (U+0000) in any string or object key, at any depth: PostgreSQL refuses it in text and jsonb;
 * - nesting deeper than MAX_INPUT_DEPTH (e.g. in `metadata`): the validators recurse until the stack ends.
 */
@Injectable()
export class UnsafeInputPipe implements PipeTransform {
  transform(value: unknown, metadata: ArgumentMetadata): unknown {
    if (!CHECKED.has(metadata.type)) return value;
    const problem = findProblem(value, metadata.type === 'param' ? (metadata.data ?? 'url') : '');
    if (problem) throw VaultError.validation(problem.field || metadata.type, problem.message);
    return value;
  }
}

const NUL = 'must not contain a NUL byte (U+0000)';

/** The first problem, depth first, with the dotted path of its field (iterative: any input depth). */
function findProblem(root: unknown, rootPath: string): { field: string; message: string } | null {
  const stack: [unknown, string, number][] = [[root, rootPath, 0]];
  for (let next = stack.pop(); next; next = stack.pop()) {
    const [value, path, depth] = next;
    if (typeof value === 'string') {
      if (value.includes('\u0000')) return { field: path, message: NUL };
      continue;
    }
    if (value === null || typeof value !== 'object') continue;
    if (depth >= MAX_INPUT_DEPTH) {
      return { field: path, message: `must not be nested deeper than ${MAX_INPUT_DEPTH} levels` };
    }
    const entries = Object.entries(value);
    for (let i = entries.length - 1; i >= 0; i--) {
      const [key, item] = entries[i] as [string, unknown];
      const at = path ? `${path}.${key}` : key;
      if (key.includes('\u0000')) return { field: at, message: NUL };
      stack.push([item, at, depth + 1]);
    }
  }
  return null;
}
