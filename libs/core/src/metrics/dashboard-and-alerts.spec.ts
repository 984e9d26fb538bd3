import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parser } from '@prometheus-io/lezer-promql';
import { parse as parseYaml } from 'yaml';
import { MetricsService } from './metrics.service';

/**
 * The shipped Grafana dashboard and Prometheus alert rules only query series the services really export:
 * names come from a real MetricsService registry of each process (histograms as their _bucket/_sum/_count
 * series), and are parsed out of the PromQL with Prometheus' own grammar (@prometheus-io/lezer-promql).
 */
const DEPLOY = join(__dirname, '..', '..', '..', '..', 'deploy');
const PROCESSES = ['vault-api', 'vault-worker'] as const;

interface Target {
  refId: string;
  expr: string;
  datasource?: { type?: string; uid?: string };
}
interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource?: { type?: string; uid?: string };
  targets?: Target[];
}
interface Dashboard {
  title: string;
  uid: string;
  schemaVersion: number;
  panels: Panel[];
  templating: { list: { name: string; type: string; query: unknown; definition?: string }[] };
}

const dashboard = JSON.parse(
  readFileSync(join(DEPLOY, 'grafana', 'vault-dashboard.json'), 'utf8'),
) as Dashboard;
const queryPanels = dashboard.panels.filter((p) => p.type !== 'row');

/** Every series name a registry exposes, with a histogram's _bucket, _sum and _count. */
async function exportedSeries(registry: MetricsService['registry']): Promise<Set<string>> {
  const names = new Set<string>();
  for (const m of await registry.getMetricsAsJSON()) {
    const type = String(m.type);
    if (type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(m.name + s);
    else if (type === 'summary') for (const s of ['', '_sum', '_count']) names.add(m.name + s);
    else names.add(m.name);
  }
  return names;
}

/** Grafana's interval variables become a duration, so the expression is plain PromQL. */
function toPromQL(expr: string): string {
  return expr.replace(/\$\{?__(rate_interval|interval|range)\}?/g, '5m');
}

/** Parses PromQL and returns the metric names its selectors use; throws on a syntax error. */
function metricNames(expr: string): string[] {
  const text = toPromQL(expr);
  const names: string[] = [];
  const errors: string[] = [];
  parser.parse(text).iterate({
    enter(node) {
      if (node.type.isError) errors.push(`at ${node.from}: "${text.slice(node.from, node.from + 20)}"`);
      if (node.name === 'Identifier' && node.node.parent?.name === 'VectorSelector')
        names.push(text.slice(node.from, node.to));
      if (node.name === 'LabelName' && text.slice(node.from, node.to) === '__name__')
        errors.push('selects by __name__, which this check cannot follow');
    },
  });
  if (errors.length > 0) throw new Error(`not valid PromQL: ${expr}\n${errors.join('\n')}`);
  return names;
}

function alertRules(): { alert: string; expr: string }[] {
  const doc = parseYaml(readFileSync(join(DEPLOY, 'prometheus', 'alerts.yml'), 'utf8')) as {
    groups: { rules: { alert: string; expr: string }[] }[];
  };
  return doc.groups.flatMap((g) => g.rules);
}

describe('metric names in the Grafana dashboard and the alert rules', () => {
  let exported: Set<string>;
  let vaultMetrics: string[];

  beforeAll(async () => {
    const perProcess = await Promise.all(
      PROCESSES.map((p) => exportedSeries(new MetricsService(p).registry)),
    );
    exported = new Set(perProcess.flatMap((s) => [...s]));
    vaultMetrics = (await new MetricsService('vault-api').registry.getMetricsAsJSON())
      .map((m) => m.name)
      .filter((n) => n.startsWith('vault_'));
  });

  it('extracts names from PromQL and refuses what is not PromQL (the check itself)', () => {
    expect(
      metricNames(
        'histogram_quantile(0.9, sum by (le) (rate(a_bucket{x="$v"}[$__rate_interval]))) / on() group_left sum(b offset 1w) or absent(c)',
      ),
    ).toEqual(['a_bucket', 'b', 'c']);
    expect(() => metricNames('sum(rate(a[5m])')).toThrow(/not valid PromQL/);
    expect(() => metricNames('{__name__=~"vault_.*"}')).toThrow(/__name__/);
  });

  it('is a Grafana dashboard: title, uid, schemaVersion, a Prometheus datasource variable', () => {
    expect(dashboard.title).toEqual(expect.any(String));
    expect(dashboard.uid).toMatch(/^[A-Za-z0-9_-]{1,40}$/);
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(36);
    expect(dashboard.templating.list).toContainEqual(
      expect.objectContaining({ name: 'datasource', type: 'datasource', query: 'prometheus' }),
    );
    expect(queryPanels.length).toBeGreaterThanOrEqual(10);
  });

  it('gives every panel a unique id, a title and a gridPos inside the 24 columns, without overlaps', () => {
    expect(new Set(dashboard.panels.map((p) => p.id)).size).toBe(dashboard.panels.length);
    const taken = new Set<string>();
    for (const p of dashboard.panels) {
      const { x, y, w, h } = p.gridPos;
      expect({ panel: p.title, ok: [x, y, w, h].every(Number.isInteger) && w > 0 && h > 0 }).toEqual({
        panel: p.title,
        ok: true,
      });
      expect({ panel: p.title, right: x + w }).toEqual({ panel: p.title, right: Math.min(x + w, 24) });
      for (let col = x; col < x + w; col++)
        for (let row = y; row < y + h; row++) {
          const cell = `${col},${row}`;
          expect({ panel: p.title, overlaps: taken.has(cell) }).toEqual({ panel: p.title, overlaps: false });
          taken.add(cell);
        }
    }
  });

  it('gives every query panel the datasource variable and targets with a refId and an expr', () => {
    for (const p of queryPanels) {
      expect({ panel: p.title, datasource: p.datasource }).toEqual({
        panel: p.title,
        datasource: { type: 'prometheus', uid: '${datasource}' },
      });
      expect(p.targets?.length).toBeGreaterThan(0);
      const refIds = (p.targets ?? []).map((t) => t.refId);
      expect(new Set(refIds).size).toBe(refIds.length);
      for (const t of p.targets ?? []) {
        expect(t.expr).toEqual(expect.any(String));
        expect(t.datasource ?? p.datasource).toEqual({ type: 'prometheus', uid: '${datasource}' });
      }
    }
  });

  it('queries, in every panel and variable, only series the API and worker export', () => {
    const used: { where: string; name: string }[] = [];
    for (const p of queryPanels)
      for (const t of p.targets ?? [])
        for (const name of metricNames(t.expr)) used.push({ where: `${p.title} ${t.refId}`, name });
    for (const v of dashboard.templating.list) {
      const m = /^label_values\((\w+)\s*,/.exec(v.definition ?? '');
      if (v.type === 'query')
        expect({ variable: v.name, metric: m?.[1] }).toEqual({
          variable: v.name,
          metric: expect.any(String),
        });
      if (m?.[1]) used.push({ where: `variable ${v.name}`, name: m[1] });
    }
    expect(used.length).toBeGreaterThan(20);
    expect(used.filter((u) => !exported.has(u.name))).toEqual([]);
  });

  it('shows every vault_* metric of the contract somewhere on the dashboard', () => {
    const used = new Set(queryPanels.flatMap((p) => (p.targets ?? []).flatMap((t) => metricNames(t.expr))));
    const missing = vaultMetrics.filter(
      (n) => ![n, `${n}_bucket`, `${n}_sum`, `${n}_count`].some((s) => used.has(s)),
    );
    expect(missing).toEqual([]);
  });

  it('draws token read latency quantiles from the histogram and re-consent flags per provider against a baseline of a day or more', () => {
    const exprs = queryPanels.flatMap((p) => (p.targets ?? []).map((t) => t.expr.replace(/\s+/g, ' ')));
    expect(exprs).toContainEqual(
      expect.stringMatching(
        /histogram_quantile\(0\.99, sum by \(le\) \(rate\(vault_token_request_duration_seconds_bucket/,
      ),
    );
    const reauth = exprs.filter((e) => e.includes('outcome="reauth_required"') && /by \(provider\)/.test(e));
    expect(reauth.filter((e) => /\[1h\]/.test(e) && !/offset|\[(1d|7d)\]/.test(e)).length).toBeGreaterThan(0);
    expect(reauth.filter((e) => /\[(1d|7d)\]|\[1h\] offset 1w/.test(e)).length).toBeGreaterThan(0);
  });

  it('alerts only on series the services export', () => {
    const rules = alertRules();
    expect(rules.length).toBeGreaterThan(0);
    const unknown = rules.flatMap((r) =>
      metricNames(r.expr)
        .filter((n) => !exported.has(n))
        .map((name) => ({ alert: r.alert, name })),
    );
    expect(unknown).toEqual([]);
  });
});
