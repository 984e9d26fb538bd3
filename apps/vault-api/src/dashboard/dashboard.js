// The vault's built-in read-only dashboard: plain browser JavaScript over the v1 API, no build step.
// The API key lives in sessionStorage (this tab only) and travels in the Authorization header, never in a URL.
// Everything from the API is put on the page with textContent, never as HTML.
'use strict';

const KEY = 'vault.dashboard.apiKey';
const PAGE_SIZE = 25;
const COLORS = {
  success: '#2e7d32',
  transient: '#f9a825',
  rate_limited: '#8e24aa',
  provider_error: '#6d4c41',
  reauth_required: '#c62828',
  integration_error: '#1565c0',
};
const $ = (id) => document.getElementById(id);
// The pages seen of each paginated table: cursors[i] opens page i.
const state = {
  filters: {},
  cursors: [undefined],
  page: 0,
  reauthDue: { cursors: [undefined], page: 0 },
};

class ApiError extends Error {
  constructor(status, body) {
    super((body && body.message) || `HTTP ${status}`);
    this.status = status;
    this.code = body && body.error;
  }
}

async function api(path, params = {}) {
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') qs.set(k, String(v));
  const url = qs.toString() ? `${path}?${qs}` : path;
  const res = await fetch(url, { headers: { authorization: `Bearer ${sessionStorage.getItem(KEY) || ''}` } });
  const body = await res.json().catch(() => null);
  if (!res.ok) throw new ApiError(res.status, body);
  return body;
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(c ?? ''));
  return node;
}

/** How long until `iso`, in days and hours (or minutes under an hour); "passed" once it has. */
function until(iso) {
  const mins = Math.floor((Date.parse(iso) - Date.now()) / 60_000);
  if (mins < 0) return 'passed';
  if (mins < 60) return `${mins} min`;
  const days = Math.floor(mins / 1440);
  const hours = Math.floor((mins % 1440) / 60);
  return days > 0 ? `${days} d ${hours} h` : `${hours} h`;
}

const when = (iso) => (iso ? new Date(iso).toISOString().replace('T', ' ').slice(0, 19) + ' UTC' : '');

/** The link that opens a connection's events below the tables. */
const eventsLink = (id) => el('a', { href: `#events/${id}`, 'data-events': id }, id.slice(0, 8));

function fillTable(id, rows, cells) {
  const body = $(id).tBodies[0];
  body.replaceChildren();
  if (rows.length === 0) {
    body.append(
      el('tr', {}, el('td', { class: 'empty', colspan: $(id).tHead.rows[0].cells.length }, 'none')),
    );
  }
  for (const row of rows) body.append(el('tr', {}, ...cells(row).map((c) => el('td', {}, c))));
}

function showLogin(message) {
  sessionStorage.removeItem(KEY);
  $('dashboard').hidden = true;
  $('logout').hidden = true;
  $('login').hidden = false;
  $('login-error').textContent = message || '';
  $('api-key').value = '';
  $('api-key').focus();
}

/** A refused key sends the person back to the form; other errors are shown above the tables. */
function failed(err) {
  if (err instanceof ApiError && err.status === 401) return showLogin('The API key was refused.');
  if (err instanceof ApiError && err.status === 403) return showLogin('This API key lacks connections:read.');
  $('error').textContent = `Could not load: ${err.message}`;
}

function renderTotals(stats) {
  $('totals').replaceChildren(
    ...['active', 'refresh_failing', 'needs_reauth', 'revoked'].map((s) =>
      el(
        'div',
        { class: `card ${s}`, 'data-status': s },
        el('div', { class: 'n' }, String(stats.totals[s] ?? 0)),
        s,
      ),
    ),
  );
  fillTable('groups', stats.broken, (g) => [
    g.integration,
    g.provider,
    g.status,
    g.reason ?? '',
    String(g.count),
    when(g.oldest_failure_at),
  ]);
  $('reauth-due-count').textContent = String(stats.reauth_due ?? 0);
  fillTable('rejected', stats.rejected_integrations, (i) => [
    i.key,
    i.provider,
    i.status_reason ?? '',
    when(i.since),
  ]);
}

/** Stacked bars per hour, one colour per outcome, drawn as SVG. */
function renderChart(series) {
  const svgNs = 'http://www.w3.org/2000/svg';
  const W = 960,
    H = 220,
    pad = 32,
    slot = (W - 2 * pad) / series.buckets.length;
  const max = Math.max(1, ...series.buckets.map((b) => Object.values(b.counts).reduce((a, n) => a + n, 0)));
  const svg = document.createElementNS(svgNs, 'svg');
  svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
  svg.setAttribute('width', String(W));
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', 'Refresh outcomes per hour');
  const add = (tag, attrs, text) => {
    const n = document.createElementNS(svgNs, tag);
    for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, String(v));
    if (text !== undefined) n.textContent = text;
    svg.append(n);
    return n;
  };
  add('line', { x1: pad, y1: H - pad, x2: W - pad, y2: H - pad, stroke: '#98a2b3' });
  add('text', { x: 2, y: pad, 'font-size': 11 }, String(max));
  series.buckets.forEach((b, i) => {
    let y = H - pad;
    for (const outcome of series.outcomes) {
      const n = b.counts[outcome] || 0;
      if (n === 0) continue;
      const h = ((H - 2 * pad) * n) / max;
      y -= h;
      const rect = add('rect', {
        x: pad + i * slot + 1,
        y,
        width: slot - 2,
        height: h,
        fill: COLORS[outcome] || '#757575',
        'data-outcome': outcome,
        'data-count': n,
        'data-hour': b.at,
      });
      const title = document.createElementNS(svgNs, 'title');
      title.textContent = `${when(b.at)}: ${n} ${outcome}`;
      rect.append(title);
    }
    if (i % 4 === 0) add('text', { x: pad + i * slot, y: H - 12, 'font-size': 11 }, b.at.slice(11, 16));
  });
  const legend = el('div', { class: 'legend' });
  for (const o of series.outcomes) {
    const s = el('span', {}, o);
    s.style.setProperty('--c', COLORS[o] || '#757575');
    legend.append(s);
  }
  $('chart').replaceChildren(svg, legend);
}

function renderBroken(page) {
  fillTable('broken', page.data, (c) => {
    const link = eventsLink(c.id);
    const err = c.last_error ? `${c.last_error.class} ${c.last_error.code}` : '';
    return [
      link,
      c.tenant_id,
      c.integration,
      c.provider,
      c.status,
      c.status_reason ?? '',
      when(c.failing_since),
      String(c.refresh_failures),
      err,
    ];
  });
  state.cursors[state.page + 1] = page.next_cursor || undefined;
  $('next-page').disabled = !page.next_cursor;
  $('first-page').disabled = state.page === 0;
}

async function loadBroken() {
  renderBroken(
    await api('/v1/stats/broken', { ...state.filters, limit: PAGE_SIZE, cursor: state.cursors[state.page] }),
  );
}

/** The connections whose refresh token dies soon, soonest first; not narrowed by the broken-status filter. */
async function loadReauthDue() {
  const { status, ...filters } = state.filters;
  const pages = state.reauthDue;
  const page = await api('/v1/stats/reauth-due', {
    ...filters,
    limit: PAGE_SIZE,
    cursor: pages.cursors[pages.page],
  });
  fillTable('reauth-due', page.data, (c) => [
    eventsLink(c.id),
    c.tenant_id,
    c.integration,
    c.provider,
    c.status,
    when(c.reauth_due_at),
    until(c.reauth_due_at),
  ]);
  pages.cursors[pages.page + 1] = page.next_cursor || undefined;
  $('reauth-next-page').disabled = !page.next_cursor;
  $('reauth-first-page').disabled = pages.page === 0;
}

async function load() {
  $('error').textContent = '';
  const { status, ...counted } = state.filters;
  try {
    const [stats, series] = await Promise.all([
      api('/v1/stats', counted),
      api('/v1/stats/refresh-outcomes', counted),
    ]);
    renderTotals(stats);
    renderChart(series);
    await Promise.all([loadBroken(), loadReauthDue()]);
    document.body.dataset.loaded = String(Date.now());
  } catch (err) {
    failed(err);
  }
}

async function showEvents() {
  const m = /^#events\/([0-9a-f-]{36})$/.exec(location.hash);
  $('events').hidden = !m;
  if (!m) return;
  try {
    const page = await api(`/v1/connections/${m[1]}/events`, { limit: 50 });
    $('events-of').textContent = m[1];
    $('events-list').replaceChildren(
      ...page.data.map((e) => el('li', {}, `${when(e.created_at)} ${e.type} ${JSON.stringify(e.detail)}`)),
    );
  } catch (err) {
    failed(err);
  }
}

async function open() {
  $('login').hidden = true;
  $('dashboard').hidden = false;
  $('logout').hidden = false;
  const integrations = await api('/v1/integrations', { limit: 500 }).catch(() => ({ data: [] }));
  const select = document.querySelector('#filters select[name=integration]');
  select.replaceChildren(
    el('option', { value: '' }, 'any'),
    ...integrations.data.map((i) => el('option', { value: i.key }, i.key)),
  );
  // The providers of the configured integrations.
  const providers = [...new Set(integrations.data.map((i) => i.provider))].sort();
  document
    .querySelector('#filters select[name=provider]')
    .replaceChildren(
      el('option', { value: '' }, 'any'),
      ...providers.map((p) => el('option', { value: p }, p)),
    );
  await load();
  await showEvents();
}

document.addEventListener('DOMContentLoaded', () => {
  $('login').addEventListener('submit', (e) => {
    e.preventDefault();
    sessionStorage.setItem(KEY, $('api-key').value.trim());
    $('api-key').value = '';
    void open();
  });
  $('logout').addEventListener('click', () => showLogin());
  $('filters').addEventListener('submit', (e) => {
    e.preventDefault();
    state.filters = Object.fromEntries([...new FormData(e.target)].filter(([, v]) => v !== ''));
    state.cursors = [undefined];
    state.page = 0;
    state.reauthDue = { cursors: [undefined], page: 0 };
    void load();
  });
  $('next-page').addEventListener('click', () => {
    state.page += 1;
    loadBroken().catch(failed);
  });
  $('first-page').addEventListener('click', () => {
    state.page = 0;
    loadBroken().catch(failed);
  });
  $('reauth-next-page').addEventListener('click', () => {
    state.reauthDue.page += 1;
    loadReauthDue().catch(failed);
  });
  $('reauth-first-page').addEventListener('click', () => {
    state.reauthDue.page = 0;
    loadReauthDue().catch(failed);
  });
  window.addEventListener('hashchange', () => void showEvents());
  if (sessionStorage.getItem(KEY)) void open();
  else showLogin();
});
