// Prometheus text exposition of our registry.
import { createMetrics } from '../../ext-authz/src/telemetry/metrics';

test('counters, histogram and build info render in text format 0.0.4', () => {
  const m = createMetrics('0.1.0');
  m.decisions.inc({ action: 'deny', reason: 'state_missing', connection: 'demo', stage: 'canary', transport: 'grpc' });
  m.decisions.inc({ action: 'deny', reason: 'state_missing', connection: 'demo', stage: 'canary', transport: 'grpc' });
  m.checkDuration.observe({ transport: 'grpc' }, 0.0003);
  m.policyErrors.inc({ reason: 'policy_error' });
  const text = m.render();
  expect(text).toContain('# TYPE callback_proxy_decisions_total counter');
  expect(text).toContain('callback_proxy_decisions_total{action="deny",reason="state_missing",connection="demo",stage="canary",transport="grpc"} 2');
  expect(text).toContain('callback_proxy_check_duration_seconds_bucket{transport="grpc",le="0.0005"} 1');
  expect(text).toContain('callback_proxy_check_duration_seconds_bucket{transport="grpc",le="0.00025"} 0');
  expect(text).toContain('callback_proxy_check_duration_seconds_count{transport="grpc"} 1');
  expect(text).toContain('callback_proxy_policy_errors_total{reason="policy_error"} 1');
  expect(text).toMatch(/callback_proxy_build_info\{version="0.1.0",node="v\d+/);
  // Every sample line: name{labels} value
  for (const line of text.trim().split('\n')) if (!line.startsWith('#')) expect(line).toMatch(/^[a-z_]+(\{[^}]*\})? [0-9.e+-]+$/);
});
