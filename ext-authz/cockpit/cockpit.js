// The migration cockpit's script (docs/stages.md, "The cockpit"). Plain browser JavaScript, no build
// step: it reads the stage API with the session cookie, renders with textContent only (request values
// and operator text are never parsed as HTML), and sends changes with the session's CSRF token.
'use strict';
(function () {
  const REFRESH_MS = 3000;
  const COLORS = { allow_legacy: '#8a6d3b', allow_new: '#2b6cb0', deny_broken: '#c53030', deny_other: '#a0aec0' };
  const state = { session: null, connections: [], charts: new Map(), timer: null, changing: null, started: 0, rendered: 0 };

  const $ = (id) => document.getElementById(id);

  /** Builds an element: props are className, text, dataset and plain properties; children are nodes or strings. */
  function el(tag, props, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(props || {})) {
      if (v === undefined || v === null) continue;
      if (k === 'text') e.textContent = String(v);
      else if (k === 'dataset') Object.assign(e.dataset, v);
      else if (k === 'className') e.className = v;
      else e[k] = v;
    }
    for (const c of children) if (c !== null && c !== undefined) e.append(typeof c === 'string' ? document.createTextNode(c) : c);
    return e;
  }

  /** replaceChildren without the absent parts (it would print "null"). */
  function fill(node, ...children) {
    node.replaceChildren(...children.filter((c) => c !== null && c !== undefined));
  }

  async function api(method, path, body) {
    const headers = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (method !== 'GET' && state.session) headers['x-csrf-token'] = state.session.csrf;
    const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'same-origin', cache: 'no-store' });
    let json = null;
    try {
      json = await res.json();
    } catch (e) {
      json = null;
    }
    if (!res.ok) {
      const err = new Error((json && json.message) || `HTTP ${res.status}`);
      err.code = (json && json.error) || 'http_' + res.status;
      err.status = res.status;
      throw err;
    }
    return json;
  }

  function fmtTime(iso) {
    return iso ? iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '—';
  }

  function fmtDuration(s) {
    if (s === null || s === undefined) return '—';
    const neg = s < 0;
    let x = Math.abs(Math.floor(s));
    const d = Math.floor(x / 86400);
    x -= d * 86400;
    const h = Math.floor(x / 3600);
    x -= h * 3600;
    const m = Math.floor(x / 60);
    const sec = x - m * 60;
    const parts = d > 0 ? [`${d}d`, `${h}h`] : h > 0 ? [`${h}h`, `${m}m`] : [`${m}m`, `${sec}s`];
    return neg ? `${parts.join(' ')} ago` : `in ${parts.join(' ')}`;
  }

  function stageText(v) {
    if (!v) return '';
    return v.stage === 'canary' ? `canary ${v.canary_percent} %` : v.stage;
  }

  // -- session ------------------------------------------------------------------------------------

  function showLogin(message) {
    state.session = null;
    if (state.timer) clearInterval(state.timer);
    state.timer = null;
    $('cockpit').hidden = true;
    $('who').hidden = true;
    $('login').hidden = false;
    $('login-error').textContent = message || '';
  }

  function showCockpit() {
    $('login').hidden = true;
    $('cockpit').hidden = false;
    $('who').hidden = false;
    $('who-name').textContent = state.session.name;
    $('who-role').textContent = state.session.role;
    refresh();
    if (!state.timer) state.timer = setInterval(refresh, REFRESH_MS);
  }

  async function start() {
    try {
      state.session = await api('GET', '/v1/session');
      showCockpit();
    } catch (e) {
      showLogin('');
    }
  }

  $('login-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const input = $('token');
    const token = input.value;
    input.value = '';
    try {
      state.session = await api('POST', '/session', { token });
      showCockpit();
    } catch (e) {
      $('login-error').textContent = e.code === 'unauthenticated' ? 'Unknown admin token.' : `Login failed: ${e.message}`;
    }
  });

  $('logout').addEventListener('click', async () => {
    try {
      await api('POST', '/session/logout', {});
    } finally {
      showLogin('Logged out.');
    }
  });

  // -- rendering ----------------------------------------------------------------------------------

  /** Reads everything and renders it — unless a refresh that started later has rendered already. */
  async function refresh() {
    const seq = ++state.started;
    try {
      const [conns, report, audit, alarms] = await Promise.all([
        api('GET', '/v1/connections'),
        api('GET', '/v1/report'),
        api('GET', '/v1/audit?limit=30'),
        api('GET', '/v1/alarms'),
      ]);
      if (seq < state.rendered) return;
      state.rendered = seq;
      state.connections = conns.connections;
      $('store').textContent = `(shared store: ${conns.store})`;
      renderAlarms(alarms.alarms);
      renderConnections(conns.connections, report);
      renderStragglers(conns.connections);
      renderReport(report);
      renderAudit(audit);
      document.body.dataset.loaded = String(Date.now());
    } catch (e) {
      if (e.status === 401) showLogin('Your session ended; sign in again.');
    }
  }

  function renderAlarms(alarms) {
    const box = $('alarms');
    box.replaceChildren(...alarms.map((a) => el('div', { className: `alarm ${a.kind}`, dataset: { kind: a.kind, connection: a.connection }, text: `${a.connection}: ${a.message}` })));
  }

  function renderConnections(list, report) {
    const body = $('connections').tBodies[0];
    const verdicts = new Map(report.connections.map((c) => [c.connection, c]));
    const seen = new Set();
    for (const c of list) {
      seen.add(c.name);
      let row = body.querySelector(`tr[data-connection="${CSS.escape(c.name)}"]`);
      if (!row) {
        row = el('tr', { dataset: { connection: c.name } });
        for (const cls of ['name', 'stage', 'canary', 'drain', 'sunset', 'share', 'pins', 'mix', 'guard', 'removable', 'actions']) row.append(el('td', { className: cls }));
        body.append(row);
      }
      const cell = (cls) => row.querySelector(`td.${cls}`);
      fill(cell('name'), el('strong', { text: c.name }), c.require_approval ? el('span', { className: 'reasons', text: 'approval required' }) : null);
      const stage = el('span', { className: `badge stage-${c.effective.stage}`, text: c.effective.stage, dataset: { stage: c.effective.stage } });
      const over = c.override ? el('span', { className: 'override', text: `override by ${c.override.set_by} (file: ${stageText(c.file)})` }) : null;
      const sched = c.scheduled ? el('span', { className: 'override', text: `scheduled: ${c.scheduled.stage} at ${fmtTime(c.scheduled.at)}` }) : null;
      const unknown = c.stage_known ? null : el('span', { className: 'override no', text: 'stage unknown: failing closed' });
      fill(cell('stage'), stage, over, sched, unknown);
      cell('canary').textContent = c.effective.stage === 'canary' ? `${c.effective.canary_percent} %` : '—';
      setCountdown(cell('drain'), c.effective.drain_until);
      setCountdown(cell('sunset'), c.sunset_at);
      cell('share').textContent = c.legacy_share === null ? 'no traffic' : `${(c.legacy_share * 100).toFixed(1)} %`;
      cell('pins').textContent = c.pins ? `${c.pins.legacy} / ${c.pins.new}${c.pins.lower_bound ? '+' : ''}` : '—';
      renderChart(cell('mix'), c);
      cell('guard').textContent = c.guard ? (c.guard.active ? `${c.guard.denied_broken}/${c.guard.callbacks_new} broken (max ${(c.guard.deny_ratio * 100).toFixed(1)} %)` : 'idle') : '—';
      const v = verdicts.get(c.name);
      fill(
        cell('removable'),
        v ? el('span', { className: v.removable ? 'yes' : 'no', text: v.removable ? 'yes' : 'no' }) : '—',
        v && v.reasons.length ? el('span', { className: 'reasons', text: v.reasons.join(', ') }) : null,
      );
      const btn = el('button', { type: 'button', className: 'small', text: 'Change stage', dataset: { action: 'change', connection: c.name } });
      btn.addEventListener('click', () => openChange(c.name));
      cell('actions').replaceChildren(btn);
    }
    for (const row of [...body.rows]) if (!seen.has(row.dataset.connection)) row.remove();
  }

  function setCountdown(td, iso) {
    td.dataset.deadline = iso || '';
    td.textContent = iso ? fmtDuration((Date.parse(iso) - Date.now()) / 1000) : '—';
    td.title = iso ? fmtTime(iso) : '';
  }

  function tickCountdowns() {
    for (const td of document.querySelectorAll('td[data-deadline]')) {
      const iso = td.dataset.deadline;
      if (iso) td.textContent = fmtDuration((Date.parse(iso) - Date.now()) / 1000);
    }
  }

  /**
   * The last hour's decision mix as stacked bars per minute: each series is drawn as the running total up
   * to its category, the tallest first, so every category shows as its own band.
   */
  function renderChart(td, c) {
    if (!c.mix || typeof window.uPlot !== 'function') {
      td.textContent = c.mix ? '' : 'unavailable';
      return;
    }
    const xs = c.mix.map((m) => Date.parse(m.start) / 1000);
    const keys = Object.keys(COLORS);
    const stacked = keys.map((_, i) => c.mix.map((m) => keys.slice(0, i + 1).reduce((sum, k) => sum + m[k], 0)));
    const data = [xs, ...stacked.reverse()];
    let chart = state.charts.get(c.name);
    if (chart && chart.root.isConnected) {
      chart.setData(data);
      return;
    }
    td.replaceChildren();
    const holder = el('div', { className: 'chart' });
    td.append(holder);
    const bars = window.uPlot.paths.bars({ size: [0.9, 8] });
    chart = new window.uPlot(
      {
        width: 260,
        height: 70,
        legend: { show: false },
        cursor: { show: false },
        axes: [{ show: false }, { show: false }],
        scales: { x: { time: true }, y: { range: (u, min, max) => [0, Math.max(1, max)] } },
        series: [{}, ...keys.slice().reverse().map((k) => ({ label: k, stroke: COLORS[k], fill: COLORS[k], width: 0, paths: bars }))],
      },
      data,
      holder,
    );
    state.charts.set(c.name, chart);
  }

  function renderStragglers(list) {
    const body = $('stragglers').tBodies[0];
    const rows = list
      .filter((c) => c.pins && c.pins.legacy > 0)
      .map((c) => el('tr', { dataset: { connection: c.name } }, el('td', { text: c.name }), el('td', { text: String(c.pins.legacy) }), el('td', { text: fmtTime(c.pins.legacy_latest_expiry) }), el('td', { text: fmtTime(c.effective.drain_until) })));
    body.replaceChildren(...(rows.length ? rows : [el('tr', {}, el('td', { colSpan: 4, className: 'muted', text: 'No flows are pinned to legacy.' }))]));
  }

  function renderReport(report) {
    const box = $('report');
    box.replaceChildren(
      el('p', {}, 'Verdict: ', el('span', { className: report.removable ? 'yes' : 'no', text: report.removable ? 'removable' : 'not removable', dataset: { verdict: String(report.removable) } }), el('span', { className: 'muted', text: ` · ${fmtTime(report.generated_at)}` })),
      ...report.connections.map((c) =>
        el(
          'div',
          { dataset: { connection: c.connection } },
          el('strong', { text: c.connection }),
          el('span', { className: 'muted', text: ` last legacy callback ${fmtTime(c.traffic.last_legacy_callback)} · legacy tokens ${c.legacy_tokens.accepted ? 'accepted' : 'closed'}` }),
          el('ul', {}, ...c.reasons.map((r) => el('li', { text: r })), ...c.revocable_credentials.map((k) => el('li', { className: 'muted', text: `revocable: ${k.name}` }))),
        ),
      ),
    );
  }

  function renderAudit(audit) {
    $('audit-head').textContent = audit.head.seq ? `(${audit.head.seq} records, head ${audit.head.hash.slice(0, 12)}…)` : '(empty)';
    const body = $('audit').tBodies[0];
    const rows = audit.records
      .slice()
      .reverse()
      .map((r) =>
        el(
          'tr',
          { dataset: { seq: String(r.seq), action: r.action, outcome: r.outcome } },
          el('td', { text: String(r.seq) }),
          el('td', { text: fmtTime(r.time) }),
          el('td', { text: `${r.actor} (${r.role})` }),
          el('td', { text: r.connection }),
          el('td', { text: r.action }),
          el('td', { className: `outcome-${r.outcome}`, text: r.error ? `${r.outcome}: ${r.error}` : r.outcome }),
          el('td', { text: `${stageText(r.from) || '—'} → ${stageText(r.to) || '—'}` }),
          el('td', { className: 'reason', text: r.reason }),
          el('td', { text: r.ticket || '' }),
        ),
      );
    body.replaceChildren(...rows);
  }

  // -- stage changes ------------------------------------------------------------------------------

  function openChange(name) {
    const c = state.connections.find((x) => x.name === name);
    if (!c) return;
    state.changing = name;
    $('change-conn').textContent = name;
    $('change-now').textContent = `${stageText(c.effective)}${c.override ? ' (override)' : ''}`;
    $('change-effect').hidden = true;
    $('change-confirm').hidden = true;
    $('change-error').textContent = '';
    $('change').showModal();
  }

  function changeBody(dryRun) {
    const body = { stage: $('change-stage').value, reason: $('change-reason').value.trim(), dry_run: dryRun };
    const pct = $('change-percent').value;
    if (body.stage === 'canary' && pct !== '') body.canary_percent = Number(pct);
    const drain = $('change-drain').value.trim();
    if (drain !== '') body.drain_until = drain;
    const ticket = $('change-ticket').value.trim();
    if (ticket !== '') body.ticket = ticket;
    return body;
  }

  function showRefusal(e) {
    $('change-error').textContent = `Refused (${e.code}): ${e.message}`;
    $('change-error').dataset.code = e.code;
  }

  $('change-preview').addEventListener('click', async () => {
    $('change-error').textContent = '';
    try {
      const r = await api('POST', `/v1/connections/${encodeURIComponent(state.changing)}/stage`, changeBody(true));
      const box = $('change-effect');
      box.textContent = r.effect.message;
      box.hidden = false;
      $('change-confirm').hidden = false;
    } catch (e) {
      showRefusal(e);
    }
  });

  $('change-confirm').addEventListener('click', async () => {
    try {
      await api('POST', `/v1/connections/${encodeURIComponent(state.changing)}/stage`, changeBody(false));
      $('change').close();
      await refresh();
    } catch (e) {
      $('change-confirm').hidden = true;
      showRefusal(e);
    }
  });

  $('change-cancel').addEventListener('click', () => $('change').close());
  for (const id of ['change-stage', 'change-percent', 'change-drain', 'change-reason', 'change-ticket']) {
    $(id).addEventListener('input', () => {
      $('change-confirm').hidden = true;
      $('change-effect').hidden = true;
    });
  }

  setInterval(tickCountdowns, 1000);
  start();
})();
