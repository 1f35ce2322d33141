// The Grafana dashboard (deploy/grafana/dashboards): stable uid, a datasource variable instead of a
// hard-coded datasource, units on every panel, and queries that only name metrics the service exports.
import fs from 'node:fs';
import path from 'node:path';
import { createMetrics } from '../../ext-authz/src/telemetry/metrics';

const ROOT = path.join(__dirname, '..', '..');
const dash = JSON.parse(fs.readFileSync(path.join(ROOT, 'deploy', 'grafana', 'dashboards', 'callback-proxy.json'), 'utf8'));

describe('Grafana dashboard', () => {
  it('has a stable uid and a datasource template variable', () => {
    expect(dash.uid).toBe('callback-proxy-overview');
    const ds = dash.templating.list.find((v: any) => v.type === 'datasource');
    expect(ds).toMatchObject({ name: 'datasource', query: 'prometheus' });
  });

  it('every panel and target uses the datasource variable, has a unit and refId/legendFormat', () => {
    expect(dash.panels.length).toBeGreaterThan(0);
    for (const p of dash.panels) {
      expect(p.datasource.uid).toBe('${datasource}');
      expect(typeof p.fieldConfig.defaults.unit).toBe('string');
      for (const t of p.targets) {
        expect(t.datasource.uid).toBe('${datasource}');
        expect(t.refId).toMatch(/^[A-Z]$/);
        expect(typeof t.legendFormat).toBe('string');
      }
    }
  });

  it('queries only metrics the service exports (names taken from its /metrics text)', () => {
    const exposition = createMetrics('test').render();
    const exported = new Set([...exposition.matchAll(/^# TYPE (\S+) (\w+)/gm)].flatMap((m) =>
      m[2] === 'histogram' ? [`${m[1]}_bucket`, `${m[1]}_sum`, `${m[1]}_count`] : [m[1]],
    ));
    const used = new Set<string>();
    for (const p of dash.panels) for (const t of p.targets) for (const m of t.expr.matchAll(/callback_proxy_[a-z_]+/g)) used.add(m[0]);
    for (const v of dash.templating.list) for (const m of String(v.query).matchAll(/callback_proxy_[a-z_]+/g)) used.add(m[0]);
    expect(used.size).toBeGreaterThan(3);
    for (const name of used) expect(exported).toContain(name);
  });
});
