// A real Prometheus (Debian's `prometheus`) scraping the admin listener (docs/operations.md, "Metrics"):
// its own temporary config and data directory on 127.0.0.1, a one-second scrape interval, bounded waits.
// After a few callbacks its HTTP API returns the decision counter, the target is up, and every query of
// the Grafana dashboard evaluates without error.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../../demo/ports';
import { cb, ISS_LEGACY, startHarness } from '../support/app-harness';
import type { Harness } from '../support/app-harness';
import { toolAvailable } from '../support/tools';

jest.setTimeout(120_000);

const HAVE_PROMETHEUS = toolAvailable('prometheus', 'the Prometheus end-to-end test');
const maybe = HAVE_PROMETHEUS ? test : test.skip;
const ROOT = path.join(__dirname, '..', '..');
const dashboard = JSON.parse(fs.readFileSync(path.join(ROOT, 'deploy', 'grafana', 'dashboards', 'callback-proxy.json'), 'utf8'));

let h: Harness;
let prom: ChildProcess | null = null;
let promLog = '';
let promPort = 0;
let dir = '';

async function api(pathAndQuery: string): Promise<any> {
  const r = await fetch(`http://127.0.0.1:${promPort}${pathAndQuery}`);
  return r.json();
}

/** Polls `f` until `ok` (at most `ms`), returning the last value either way. */
async function until<T>(f: () => Promise<T>, ok: (v: T) => boolean, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  let v = await f().catch(() => undefined as T);
  while (!ok(v) && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 250));
    v = await f().catch(() => undefined as T);
  }
  return v;
}

beforeAll(async () => {
  if (!HAVE_PROMETHEUS) return;
  h = await startHarness();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cbp-prom-'));
  fs.writeFileSync(
    path.join(dir, 'prometheus.yml'),
    [
      'global: { scrape_interval: 1s, evaluation_interval: 1s }',
      'scrape_configs:',
      '  - job_name: callback-proxy',
      `    static_configs: [{ targets: ["127.0.0.1:${h.adminPort}"] }]`,
      '',
    ].join('\n'),
  );
  promPort = await freePort();
  prom = spawn('prometheus', [
    `--config.file=${path.join(dir, 'prometheus.yml')}`,
    `--storage.tsdb.path=${path.join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${promPort}`,
    '--log.level=warn',
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  prom.stderr!.on('data', (c) => (promLog += String(c)));
  const ready = await until(() => fetch(`http://127.0.0.1:${promPort}/-/ready`).then((r) => r.status), (s) => s === 200);
  if (ready !== 200) throw new Error(`prometheus did not become ready:\n${promLog}`);
});

afterAll(async () => {
  prom?.kill('SIGKILL');
  await h?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

maybe('Prometheus scrapes the admin listener and sees the decision counter grow', async () => {
  const targets = await until(() => api('/api/v1/targets'), (t) => t?.data?.activeTargets?.[0]?.health === 'up');
  expect(targets.data.activeTargets[0]).toMatchObject({ health: 'up', labels: { job: 'callback-proxy' } });

  const state = await h.mint('legacy');
  expect(await h.ask('grpc', { path: cb({ code: 'prom-c1', state, iss: ISS_LEGACY }) })).toMatchObject({ allowed: true });
  for (let i = 0; i < 4; i++) await h.ask('http-nginx', { path: cb({ code: `prom-x${i}`, state: `nope${i}` }) });

  const q = encodeURIComponent('sum by (action) (callback_proxy_decisions_total{connection="demo"})');
  const byAction = (r: any): Record<string, number> => Object.fromEntries((r?.data?.result ?? []).map((s: any) => [s.metric.action, Number(s.value[1])]));
  const r = await until(() => api(`/api/v1/query?query=${q}`), (v) => byAction(v).allow === 1 && byAction(v).deny === 4);
  expect(byAction(r)).toEqual({ allow: 1, deny: 4 });

  const up = await api(`/api/v1/query?query=${encodeURIComponent('callback_proxy_ready')}`);
  expect(Number(up.data.result[0].value[1])).toBe(1);
});

maybe('every Grafana dashboard query evaluates in Prometheus, and the traffic panels have data', async () => {
  // Enough samples for rate() over the window.
  await until(() => api(`/api/v1/query?query=${encodeURIComponent('count_over_time(callback_proxy_ready[1m])')}`), (v) => Number(v?.data?.result?.[0]?.value?.[1] ?? 0) >= 3);
  const results: Record<string, number> = {};
  for (const p of dashboard.panels) {
    for (const t of p.targets) {
      const expr = String(t.expr).replace(/\$__rate_interval/g, '1m').replace(/\$connection/g, '.*');
      const r = await api(`/api/v1/query?query=${encodeURIComponent(expr)}`);
      expect(`${p.title} ${t.refId}: ${r.status} ${r.error ?? ''}`).toBe(`${p.title} ${t.refId}: success `);
      results[`${p.title} ${t.refId}`] = r.data.result.length;
    }
  }
  for (const title of ['Decisions by action A', 'Denies by reason A', 'Check latency (decode to encode) B', 'Stage per connection A', 'Build and policy A', 'Readiness and Redis A', 'Memory A']) {
    expect(`${title}: ${results[title] > 0}`).toBe(`${title}: true`);
  }
});
