// `serve --workers 2` in the shipped runtime over loopback with a real Redis (docs/operations.md,
// "Workers"): the two workers share the gRPC and HTTP listeners (each new connection goes to the next
// worker) and the store, so a state used through one worker is refused through the other; each worker
// has its own admin listener (its own counters); SIGTERM drains both and the primary exits 0 with no
// worker left. Without --redis, more than one worker is refused before anything starts. Skips loudly
// without redis-server, except in CI.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import { execFileSync } from 'node:child_process';
import * as grpc from '@grpc/grpc-js';
import { stringify } from 'yaml';
import { createDemoRegistry } from '../../ext-authz/src/config/default';
import { loadProtos } from '../../ext-authz/src/check/protos';
import { checkRequestFor, cb, httpRequest, ISS_LEGACY } from '../support/app-harness';
import { redisAvailability, startRedis } from '../support/redis-server';
import type { RunningRedis } from '../support/redis-server';
import { startServe } from '../support/serve-child';
import type { ServeChild } from '../support/serve-child';
import { runCli } from './run-cli';

jest.setTimeout(90_000);

const TOKEN = 'workers-test-pin-api-token-0123456789';

test('more than one worker without --redis is refused before anything starts, naming the flag', () => {
  const r = runCli(['serve', '--workers', '2', '--config', 'no-such-registry.yaml', '--grpc-addr', '127.0.0.1:0', '--http-addr', '127.0.0.1:0', '--admin-addr', '127.0.0.1:0']);
  expect(r.status).toBe(2);
  expect(r.stderr).toContain('--workers: 2 workers need --redis');
  expect(r.stderr).not.toContain('ready');
});

/** A Check over a connection of its own (no shared subchannel): the cluster hands it to the next worker. */
async function checkOnNewConnection(port: number, req: unknown): Promise<{ allowed: boolean; reason: string | null }> {
  const { AuthorizationClient } = loadProtos();
  const client = new AuthorizationClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 }) as grpc.Client & Record<string, any>;
  try {
    const v = await new Promise<any>((resolve, reject) => client.Check(req, (e: Error | null, x: unknown) => (e ? reject(e) : resolve(x))));
    const headers: { header: { key: string; value: string } }[] = v.deniedResponse?.headers ?? [];
    return { allowed: (v.status?.code ?? 0) === 0, reason: headers.find((h) => h.header.key === 'x-callback-reason')?.header.value ?? null };
  } finally {
    client.close();
  }
}

function metricsOf(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: '/metrics', agent: false }, (res) => {
      let body = '';
      res.on('data', (c) => (body += String(c)));
      res.on('end', () => resolve(body));
    }).on('error', reject);
  });
}

/** Sum of callback_proxy_decisions_total samples whose labels contain every `label="value"`. */
function decisions(text: string, ...labels: string[]): number {
  let n = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith('callback_proxy_decisions_total{')) continue;
    if (labels.every((l) => line.includes(l))) n += Number(line.split(' ').pop());
  }
  return n;
}

function childrenOf(pid: number): number[] {
  try {
    return execFileSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' }).split('\n').map((s) => Number(s.trim())).filter((n) => n > 0);
  } catch {
    return [];
  }
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

const maybe = redisAvailability('serve --workers tests') ? describe : describe.skip;

maybe('serve --workers 2 with Redis', () => {
  let redis: RunningRedis;
  let dir: string;
  let s: ServeChild;
  let admins: number[];

  beforeAll(async () => {
    redis = await startRedis();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cbp-workers-'));
    const reg = createDemoRegistry();
    reg.keys.pin_api_tokens = { legacy: TOKEN, new: TOKEN };
    fs.writeFileSync(path.join(dir, 'registry.yaml'), stringify(reg));
    s = await startServe(['--workers', '2', '--redis', `${redis.url}/0`, '--config', path.join(dir, 'registry.yaml')]);
    const m = /workers=2 admin_ports=(\d+),(\d+)/.exec(s.stderr());
    if (!m) throw new Error(`no workers ready line:\n${s.stderr()}`);
    admins = [Number(m[1]), Number(m[2])];
  });
  afterAll(async () => {
    await s?.stop();
    redis?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  test('two worker processes, each with its own admin listener', () => {
    expect(childrenOf(s.pid)).toHaveLength(2);
    expect(new Set(admins).size).toBe(2);
  });

  test('a state used through one worker is refused through the other (shared pins and replay markers)', async () => {
    const mint = await httpRequest(s.httpPort, 'POST', '/v1/pins:mint', { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, JSON.stringify({ connection: 'demo', backend: 'legacy' }));
    expect(mint.status).toBe(200);
    const state = (JSON.parse(mint.body) as { state: string }).state;
    const before = await Promise.all(admins.map(metricsOf));
    const first = await checkOnNewConnection(s.grpcPort, checkRequestFor({ path: cb({ code: 'workers-c1', state, iss: ISS_LEGACY }) }));
    expect(first).toEqual({ allowed: true, reason: null });
    const afterAllow = await Promise.all(admins.map(metricsOf));
    const allowedBy = [0, 1].filter((i) => decisions(afterAllow[i], 'action="allow"') > decisions(before[i], 'action="allow"'));
    expect(allowedBy).toHaveLength(1);
    const other = 1 - allowedBy[0];
    // Replays on new connections until one lands on the other worker (round robin: the next one does);
    // every one of them, whichever worker answers, is refused.
    let refusedByOther = false;
    for (let i = 0; i < 8 && !refusedByOther; i++) {
      const replay = await checkOnNewConnection(s.grpcPort, checkRequestFor({ path: cb({ code: `workers-c2-${i}`, state, iss: ISS_LEGACY }) }));
      expect(replay).toEqual({ allowed: false, reason: 'state_replayed' });
      const now = await metricsOf(admins[other]);
      refusedByOther = decisions(now, 'reason="state_replayed"') > decisions(afterAllow[other], 'reason="state_replayed"');
    }
    expect(refusedByOther).toBe(true);
  });

  test('SIGTERM drains both workers and the primary exits 0 with none left', async () => {
    const workers = childrenOf(s.pid);
    expect(workers).toHaveLength(2);
    expect(await s.stop()).toBe(0);
    expect(workers.filter(alive)).toEqual([]);
    expect(s.stderr()).toContain('SIGTERM: draining 2 worker(s)');
  });
});

// The opa-envoy mode keeps nothing between checks, so it runs workers without Redis or a registry (and
// refuses both flags): every worker gives the plugin's answer on its own.
test('--mode opa-envoy runs 2 workers with no store or registry, each answering as the plugin does', async () => {
  const s = await startServe(['--mode', 'opa-envoy', '--workers', '2', '--policy', 'policies/examples/opa-envoy', '--data', 'policies/examples/opa-envoy/routes.json', '--log-level', 'warn']);
  try {
    expect(childrenOf(s.pid)).toHaveLength(2);
    const m = /workers=2 admin_ports=(\d+),(\d+)/.exec(s.stderr());
    expect(m).not.toBeNull();
    const admins = [Number(m![1]), Number(m![2])];
    const good = checkRequestFor({ path: '/oauth2/callback?code=c1&state=s1' });
    const bad = checkRequestFor({ path: '/oauth2/callback?code=c1&code=c2&state=s1' });
    // New connections go round robin, so 6 of them reach both workers; all answer alike.
    for (let i = 0; i < 6; i++) {
      expect(await checkOnNewConnection(s.grpcPort, good)).toMatchObject({ allowed: true });
      expect(await checkOnNewConnection(s.grpcPort, bad)).toMatchObject({ allowed: false });
    }
    const served = await Promise.all(admins.map(async (p) => decisions(await metricsOf(p))));
    expect(served.every((n) => n > 0)).toBe(true);
  } finally {
    expect(await s.stop()).toBe(0);
  }
});
