// `--mode opa-envoy` over real gRPC on 127.0.0.1 with the shared OPA-Envoy policy (../shared/opa-wasm/
// opa-envoy/: a policy and its OPA-built wasm bundle these tests do not otherwise use) and the answers
// `opa eval` gave for it (samples.json). Each sample becomes a CheckRequest whose path and method carry
// the sample's parsed_path, parsed_query and method; the service must build the plugin's input from it
// and answer what opa-envoy-plugin answers for the sample's `want`: a boolean → OK / PERMISSION_DENIED with
// no HTTP response; an object → an OkHttpResponse with its headers, or a DeniedHttpResponse with its status
// and headers; always dynamic_metadata.decision_id. Run on the Rego engine from a directory and on the
// wasm module OPA built, then a fixed payload 1,000 times on each.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { AppOptions } from '../../../ext-authz/src/app';
import { checkRequestFor, grpcCheck, startHarness } from '../../support/app-harness';
import type { Harness } from '../../support/app-harness';
import { sharedFixture } from '../../support/shared-fixtures';
import { startServe } from '../../support/serve-child';
import * as grpc from '@grpc/grpc-js';
import { loadProtos } from '../../../ext-authz/src/check/protos';

const shared = sharedFixture('opa-wasm', 'opa-envoy mode over gRPC');
const maybe = shared ? describe : describe.skip;

interface Sample {
  name: string;
  entrypoint: 'envoy/authz/allow' | 'envoy/authz/result';
  input: { attributes: { request: { http: { method: string; host: string } } }; parsed_path: string[]; parsed_query: Record<string, string[]> };
  want: boolean | { allowed: boolean; headers: Record<string, string>; http_status: number };
}

/** The request path a sample's parsed_path and parsed_query came from. */
function pathOf(s: Sample): string {
  const q = Object.entries(s.input.parsed_query).flatMap(([k, vs]) => vs.map((v) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`));
  return `/${s.input.parsed_path.join('/')}${q.length ? `?${q.join('&')}` : ''}`;
}

/** What opa-envoy-plugin answers for `want` (its Check handler's rules), decision_id aside. */
function pluginAnswer(want: Sample['want']): Record<string, unknown> {
  if (typeof want === 'boolean') return { status: { code: want ? 0 : 7 } };
  const headers = Object.entries(want.headers).map(([key, value]) => ({ header: { key, value } }));
  if (want.allowed) return { status: { code: 0 }, okResponse: { headers } };
  return { status: { code: 7 }, deniedResponse: { status: { code: 'Forbidden' }, headers } };
}

/** The response without decision_id, with empty repeated fields dropped (grpc-js decodes them as []). */
function comparable(resp: any): Record<string, unknown> {
  const out: Record<string, unknown> = { status: { code: resp.status?.code } };
  const strip = (o: Record<string, unknown>): Record<string, unknown> =>
    Object.fromEntries(Object.entries(o).filter(([, v]) => !(Array.isArray(v) && v.length === 0) && v !== '' && v !== null && v !== undefined));
  if (resp.okResponse) out.okResponse = strip(resp.okResponse);
  if (resp.deniedResponse) out.deniedResponse = strip(resp.deniedResponse);
  return out;
}

function decisionId(resp: any): string {
  return resp.dynamicMetadata?.fields?.decision_id?.stringValue;
}

maybe('--mode opa-envoy answers as opa-envoy-plugin (shared OPA-Envoy policy, never seen by other tests)', () => {
  let tmp: string;
  let samples: Sample[];
  let bundle: string;

  beforeAll(async () => {
    const src = path.join(shared!, 'opa-envoy', 'src');
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'opa-envoy-mode-'));
    // The policy directory exactly as the user has it: the Rego file and its routes data.
    for (const f of fs.readdirSync(src)) fs.copyFileSync(path.join(src, f), path.join(tmp, f));
    samples = (JSON.parse(fs.readFileSync(path.join(shared!, 'opa-envoy', 'samples.json'), 'utf8')) as { samples: Sample[] }).samples;
    // OPA's own build: `opa build -t wasm -e envoy/authz/allow -e envoy/authz/result src`.
    bundle = path.join(shared!, 'opa-envoy', 'bundle.tar.gz');
  });
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  type Engine = 'rego' | 'wasm';
  async function serve(engine: Engine, entrypoint: string, extra: Partial<AppOptions> = {}): Promise<Harness> {
    const base: Partial<AppOptions> = { mode: 'opa-envoy', decisionPath: entrypoint, ...extra };
    if (engine === 'rego') return startHarness({ ...base, policyDir: tmp, dataFile: path.join(tmp, 'routes.json') });
    // --policy bundle.tar.gz --engine wasm: the bundle's policy.wasm with the routes OPA put in its data.json.
    return startHarness({ ...base, policyDir: bundle, engine: 'wasm' });
  }

  describe.each(['rego', 'wasm'] as const)('on the %s engine', (engine) => {
    const harnesses = new Map<string, Harness>();
    beforeAll(async () => {
      for (const ep of ['envoy/authz/allow', 'envoy/authz/result']) harnesses.set(ep, await serve(engine, ep));
    }, 60_000);
    afterAll(async () => {
      for (const h of harnesses.values()) await h.close();
    });

    test('every sample gets opa-envoy-plugin\'s answer to what opa eval decided', async () => {
      expect(samples).toHaveLength(12);
      for (const h of harnesses.values()) expect(h.app.engine?.kind).toBe(engine);
      for (const s of samples) {
        const h = harnesses.get(s.entrypoint)!;
        const http = s.input.attributes.request.http;
        const resp = await grpcCheck(h.client, checkRequestFor({ method: http.method, host: http.host, path: pathOf(s) }));
        expect({ name: s.name, entrypoint: s.entrypoint, got: comparable(resp) }).toEqual({ name: s.name, entrypoint: s.entrypoint, got: pluginAnswer(s.want) });
        expect(decisionId(resp)).toMatch(/^[0-9a-f-]{36}$/);
        expect(Object.keys(resp.dynamicMetadata.fields)).toEqual(['decision_id']);
      }
    });

    test('the policy saw the plugin\'s input document (decision log, OPA\'s event shape)', async () => {
      const h = harnesses.get('envoy/authz/allow')!;
      const before = h.decisionLines.length;
      const resp = await grpcCheck(h.client, checkRequestFor({ path: '/oauth2/callback?code=c&state=s' }));
      const ev = JSON.parse(h.decisionLines[before]);
      expect(ev.decision_id).toBe(decisionId(resp));
      expect(ev.path).toBe('envoy/authz/allow');
      expect(ev.result).toBe(true);
      expect(ev.input.parsed_path).toEqual(['oauth2', 'callback']);
      expect(Object.keys(ev.input.parsed_query).sort()).toEqual(['code', 'state']);
      expect(JSON.stringify(ev)).not.toContain('code=c'); // query values masked (T-L5)
      expect(ev.input.version).toEqual({ ext_authz: 'v3', encoding: 'protojson' });
      expect(ev.input.truncated_body).toBe(false);
      expect(ev.input.attributes.request.http.method).toBe('GET');
      // None of the callback mode's facts.
      for (const k of ['callback', 'pin', 'token', 'migration', 'webhook', 'now']) expect(ev.input).not.toHaveProperty(k);
      // OPA's `bundles` field: the bundle by name for the wasm bundle; the engine for a Rego directory.
      expect(ev.bundles).toEqual(engine === 'wasm' ? { [bundle]: { revision: '' } } : { rego: { revision: expect.any(String) } });
      expect(ev.metrics.timer_rego_query_eval_ns).toBeGreaterThan(0);
    });

    test('no callback facts: an unknown host is up to the policy, and the same callback twice is allowed twice', async () => {
      const h = harnesses.get('envoy/authz/allow')!;
      const req = checkRequestFor({ host: 'not-in-any-registry.example', path: '/oauth2/callback?code=same&state=same' });
      const a = await grpcCheck(h.client, req);
      const b = await grpcCheck(h.client, req);
      expect([a.status.code, b.status.code]).toEqual([0, 0]);
      expect(decisionId(a)).not.toBe(decisionId(b));
    });

    test('a fixed payload 1,000 times gets the same answer every time', async () => {
      const h = harnesses.get('envoy/authz/result')!;
      const payloads = [checkRequestFor({ path: '/oauth2/callback?code=c&state=s' }), checkRequestFor({ path: '/admin?x=1' })];
      for (const p of payloads) {
        const ids = new Set<string>();
        const answers = new Set<string>();
        for (let i = 0; i < 1000; i++) {
          const resp = await grpcCheck(h.client, p);
          ids.add(decisionId(resp));
          answers.add(JSON.stringify(comparable(resp)));
        }
        expect(answers.size).toBe(1);
        expect(ids.size).toBe(1000);
      }
    }, 120_000);
  });

  test.each([
    ['a Rego directory', () => ['--policy', tmp, '--data', path.join(tmp, 'routes.json')]],
    ['OPA\'s wasm bundle', () => ['--policy', bundle, '--engine', 'wasm']],
  ])('`callback-proxy serve --mode opa-envoy` (the real process) on %s answers every sample the same way', async (_what, args) => {
    const child = await startServe(['--mode', 'opa-envoy', ...args(), '--decision', 'envoy/authz/result', '--log-level', 'warn']);
    const client = new (loadProtos().AuthorizationClient)(`127.0.0.1:${child.grpcPort}`, grpc.credentials.createInsecure()) as any;
    try {
      expect(child.stderr()).not.toContain('EMBEDDED DEMO');
      for (const s of samples.filter((x) => x.entrypoint === 'envoy/authz/result')) {
        const http = s.input.attributes.request.http;
        const resp = await grpcCheck(client, checkRequestFor({ method: http.method, host: http.host, path: pathOf(s) }));
        expect({ name: s.name, got: comparable(resp) }).toEqual({ name: s.name, got: pluginAnswer(s.want) });
      }
    } finally {
      client.close();
      expect(await child.stop()).toBe(0);
    }
  }, 90_000);
});
