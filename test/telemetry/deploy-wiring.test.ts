// The local stack's observability wiring agrees with the service: docker-compose publishes the admin
// listener that deploy/prometheus.yml scrapes, and its OTEL_* settings are ones the service accepts,
// sending spans to a protocol the collector (deploy/otel-collector.yaml) receives.
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { readOtelSettings } from '../../ext-authz/src/telemetry/otel-settings';

const ROOT = path.join(__dirname, '..', '..');
const yaml = (...p: string[]): any => YAML.parse(fs.readFileSync(path.join(ROOT, ...p), 'utf8'));

const compose = yaml('docker-compose.yml');
const svc = compose.services['ext-authz'];
const arg = (flag: string): string => svc.command[svc.command.indexOf(flag) + 1];

test('Prometheus scrapes the admin port that compose binds and publishes', () => {
  const admin = arg('--admin-addr');
  expect(admin).toMatch(/^0\.0\.0\.0:\d+$/);
  const port = admin.split(':')[1];
  expect(svc.ports).toContain(`127.0.0.1:${port}:${port}`);
  const prom = yaml('deploy', 'prometheus.yml');
  const job = prom.scrape_configs.find((j: any) => j.job_name === 'ext-authz');
  expect(job.static_configs[0].targets).toEqual([`ext-authz:${port}`]);
  // The forward-auth port serves no /metrics any more.
  expect(job.static_configs[0].targets[0]).not.toContain(arg('--http-addr').split(':')[1]);
});

test("compose's OTEL_* settings are valid and send spans where the collector listens", () => {
  const s = readOtelSettings(svc.environment);
  expect(s.serviceName).toBe('callback-proxy');
  expect(s.traces?.otlp).toMatchObject({ url: 'http://otel-collector:4318/v1/traces', protocol: 'http/protobuf' });
  expect(s.metrics.otlp).toBeNull(); // scraped instead, not counted twice
  const collector = yaml('deploy', 'otel-collector.yaml');
  expect(collector.receivers.otlp.protocols.http.endpoint).toMatch(/:4318$/);
  expect(collector.service.pipelines.traces.receivers).toContain('otlp');
});
