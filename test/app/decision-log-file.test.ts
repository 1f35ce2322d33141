// `serve --decision-log <file>`: events land in the file as JSON lines (masked); an unopenable path
// fails start-up naming the path.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import { App } from '../../ext-authz/src/app';
import { createLogger } from '../../ext-authz/src/telemetry/logger';
import { httpRequest } from '../support/app-harness';

jest.setTimeout(60_000);

test('decision log file: one masked OPA-style event per check', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cbp-dl-'));
  const file = path.join(dir, 'decisions.jsonl');
  const app = new App({ grpcAddr: '127.0.0.1:0', httpAddr: '127.0.0.1:0', graceMs: 0, decisionLog: file, logger: createLogger({ stream: new PassThrough() }), watch: false });
  try {
    const { httpPort } = await app.start();
    const r = await httpRequest(httpPort, 'GET', '/envoy/authz/oauth2/callback?code=CANARYCODE123&state=CANARYSTATE', { host: 'auth.example.com' });
    expect(r.status).toBe(403);
    await app.stop();
    const lines = fs.readFileSync(file, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(1);
    const ev = JSON.parse(lines[0]);
    expect(ev).toMatchObject({ path: 'callback/decision', result: { action: 'deny' } });
    expect(typeof ev.decision_id).toBe('string');
    expect(lines[0]).not.toContain('CANARY');
  } finally {
    await app.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('an unopenable decision log path fails start-up with the path', async () => {
  const bad = path.join(os.tmpdir(), 'no-such-dir-cbp', 'x', 'd.jsonl');
  const app = new App({ grpcAddr: '127.0.0.1:0', httpAddr: '127.0.0.1:0', graceMs: 0, decisionLog: bad, logger: createLogger({ stream: new PassThrough() }) });
  await expect(app.listen()).rejects.toThrow(`cannot open decision log ${bad}`);
  await app.stop();
});
