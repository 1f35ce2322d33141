// The Grafana dashboard (deploy/grafana/dashboards): stable uid, a datasource variable instead of a
// hard-coded datasource, units on every panel. That its queries only name metrics the service exports is
// checked against live scrapes (test/telemetry/scrape.test.ts), and that Prometheus evaluates every one
// of them, by a real Prometheus (test/telemetry/prometheus-e2e.test.ts).
import fs from 'node:fs';
import path from 'node:path';

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

  it('panels have unique ids and refIds and fit the 24-column grid without overlapping', () => {
    const ids = dash.panels.map((p: any) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    const cells = new Set<string>();
    for (const p of dash.panels) {
      const g = p.gridPos;
      expect(g.x + g.w).toBeLessThanOrEqual(24);
      const refs = p.targets.map((t: any) => t.refId);
      expect(new Set(refs).size).toBe(refs.length);
      for (let x = g.x; x < g.x + g.w; x++) for (let y = g.y; y < g.y + g.h; y++) {
        expect(cells.has(`${x},${y}`)).toBe(false);
        cells.add(`${x},${y}`);
      }
    }
  });
});
