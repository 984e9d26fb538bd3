import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import * as ts from 'typescript';
import { TOKEN_ROW_COLUMNS } from './connections.repository';

/**
 * Keeps the token cache honest: every statement that deletes connections, or updates a column the cache holds
 * (`TOKEN_ROW_COLUMNS`), sits in a method that announces the write (`this.changes.connectionsChanged`, see
 * connection-changes.ts). A new writer of connections (a revoke, a tenant move, a re-seal…) that forgets it
 * fails here, naming the method.
 */
const ROOT = join(__dirname, '..', '..', '..', '..');
const ANNOUNCE = 'this.changes.connectionsChanged(';

interface Finding {
  where: string;
  problem: string;
}

/** Which token-row columns (or `delete`/`upsert`) a piece of SQL writes; empty when none. */
export function tokenRowWrites(sql: string): string[] {
  const writes: string[] = [];
  if (/\bdelete\s+from\s+connections\b/i.test(sql)) writes.push('delete');
  // A table named by an expression may be connections: such a method must announce (for that table).
  if (/\b(?:update|delete\s+from)\s+\$\{/i.test(sql)) writes.push('a table named at run time');
  if (/\binsert\s+into\s+connections\b[\s\S]*\bon\s+conflict\b[\s\S]*\bdo\s+update\b/i.test(sql))
    writes.push('upsert');
  const update = /\bupdate\s+connections\b(?:\s+(?:as\s+)?\w+)?\s+set\b/gi;
  for (let m = update.exec(sql); m; m = update.exec(sql)) {
    for (const column of setColumns(sql.slice(m.index + m[0].length))) {
      if ((TOKEN_ROW_COLUMNS as readonly string[]).includes(column)) writes.push(column);
    }
  }
  return writes;
}

/** The columns assigned by a SET list (the text after SET), up to its FROM/WHERE/RETURNING or its end. */
function setColumns(rest: string): string[] {
  const columns: string[] = [];
  let depth = 0;
  let start = 0;
  const take = (end: number) => {
    const name = /^\s*(?:\w+\.)?"?(\w+)"?\s*=/.exec(rest.slice(start, end));
    if (name?.[1]) columns.push(name[1].toLowerCase());
  };
  for (let i = 0; i < rest.length; i += 1) {
    const c = rest[i];
    if (c === '(') depth += 1;
    else if (c === ')') {
      if (depth === 0) break;
      depth -= 1;
    } else if (c === ',' && depth === 0) {
      take(i);
      start = i + 1;
    } else if (depth === 0 && /^\s(from|where|returning)\b/i.test(rest.slice(i, i + 11))) {
      take(i);
      return columns;
    }
  }
  take(rest.length);
  return columns;
}

/** Every write of a token row in `source` whose method does not announce it. */
export function unannouncedWrites(fileName: string, source: string): Finding[] {
  const file = ts.createSourceFile(fileName, source, ts.ScriptTarget.ES2022, true);
  const constSql = new Map<string, string>();
  for (const statement of file.statements) {
    if (!ts.isVariableStatement(statement)) continue;
    for (const d of statement.declarationList.declarations) {
      if (ts.isIdentifier(d.name) && d.initializer) constSql.set(d.name.text, d.initializer.getText(file));
    }
  }
  const findings: Finding[] = [];
  // The outermost function-like node decides (a callback inside a method belongs to the method).
  const visit = (node: ts.Node): void => {
    if (
      (ts.isMethodDeclaration(node) || ts.isFunctionDeclaration(node) || ts.isArrowFunction(node)) &&
      node.body
    ) {
      const name = node.name && ts.isIdentifier(node.name) ? node.name.text : '(function)';
      const cls = ts.isClassDeclaration(node.parent) && node.parent.name ? `${node.parent.name.text}.` : '';
      const text = node.body.getText(file);
      const sql: string[] = [];
      const collect = (n: ts.Node) => {
        if (ts.isStringLiteralLike(n) || ts.isTemplateExpression(n)) sql.push(n.getText(file));
        if (ts.isIdentifier(n) && constSql.has(n.text)) sql.push(constSql.get(n.text) ?? '');
        ts.forEachChild(n, collect);
      };
      collect(node.body);
      const writes = [...new Set(sql.flatMap(tokenRowWrites))];
      if (writes.length > 0 && !text.includes(ANNOUNCE)) {
        findings.push({
          where: `${fileName}: ${cls}${name}`,
          problem: `writes ${writes.join(', ')} of connections without ${ANNOUNCE}…) after the commit`,
        });
      }
      return;
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return findings;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    // Migrations run before any process serves (its cache starts empty).
    if (['node_modules', 'dist', 'generated', 'migrations'].includes(name)) return [];
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return name.endsWith('.ts') && !name.endsWith('.spec.ts') && !name.endsWith('.d.ts') ? [path] : [];
  });
}

describe('writes to connections announce themselves to the token cache', () => {
  it('every method of libs/ and apps/ that writes a token-row column or deletes a connection announces it', () => {
    const files = [...sourceFiles(join(ROOT, 'libs')), ...sourceFiles(join(ROOT, 'apps'))];
    expect(files.length).toBeGreaterThan(50);
    const findings = files.flatMap((f) => unannouncedWrites(relative(ROOT, f), readFileSync(f, 'utf8')));
    // See libs/persistence/src/repositories/connection-changes.ts and docs/decisions.md ("Token cache").
    expect(findings).toEqual([]);
  });

  it('finds the writes it is meant to find, and lets schedule-only writes and inserts through', () => {
    const repo = (body: string) => `
      const SQL = \`UPDATE connections c SET status = 'revoked', updated_at = now() WHERE c.id = $1\`;
      class Repo { async revoke(id: string) { ${body} } }`;
    expect(unannouncedWrites('r.ts', repo('await this.db.execute(SQL, [id]);'))).toEqual([
      { where: 'r.ts: Repo.revoke', problem: expect.stringContaining('writes status of connections') },
    ]);
    expect(
      unannouncedWrites(
        'r.ts',
        repo('await this.db.execute(SQL, [id]); this.changes.connectionsChanged([id]);'),
      ),
    ).toEqual([]);
    expect(tokenRowWrites(`DELETE FROM connections WHERE id = $1`)).toEqual(['delete']);
    expect(tokenRowWrites('`UPDATE ${f.table} t SET ${f.column} = u.sealed`')).toEqual([
      'a table named at run time',
    ]);
    expect(tokenRowWrites(`UPDATE connections SET tenant_id = $2 WHERE id = $1`)).toEqual(['tenant_id']);
    expect(
      tokenRowWrites(`UPDATE connections SET access_token_sealed = $2, version = version + 1 WHERE id = $1`),
    ).toEqual(['access_token_sealed']);
    expect(
      tokenRowWrites(`WITH c AS (UPDATE connections SET scopes = coalesce($2, scopes) WHERE id = $1 RETURNING id)
        SELECT id FROM c`),
    ).toEqual(['scopes']);
    expect(tokenRowWrites(`UPDATE connections SET refresh_claimed_until = NULL WHERE id = ANY($1)`)).toEqual(
      [],
    );
    expect(
      tokenRowWrites(`UPDATE connections SET next_refresh_at = $3, refresh_claimed_until = NULL`),
    ).toEqual([]);
    expect(tokenRowWrites(`INSERT INTO connections (id, status) VALUES ($1, $2)`)).toEqual([]);
    expect(
      tokenRowWrites(
        `INSERT INTO connections (id) VALUES ($1) ON CONFLICT (id) DO UPDATE SET status = 'active'`,
      ),
    ).toEqual(['upsert']);
  });
});
