// The whole stack on loopback for the e2e suite, the cutover benchmark and `npm run demo`: ext-authz
// in-process (registry in a temp YAML file it watches), the legacy and new mock identity backends
// (each registering its flows with the Pin API), nginx (auth_request forward-auth) when installed, and
// the gRPC front proxy (an Envoy stand-in for body-carrying callbacks).
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { stringify } from 'yaml';
import { App } from '../ext-authz/src/app';
import type { Stage } from '../ext-authz/src/model/registry';
import { createLogger } from '../ext-authz/src/telemetry/logger';
import { memorySink } from '../ext-authz/src/telemetry/decision-log';
import { startBackend } from './idp/backend';
import type { PinRegistration, RunningBackend } from './idp/backend';
import { ScriptedBrowser } from './idp/browser';
import { findNginx, startNginx } from './nginx';
import type { RunningNginx } from './nginx';
import { startFrontProxy } from './front-proxy';
import type { RunningFrontProxy } from './front-proxy';

export const EXTERNAL_HOST = 'auth.example.com';
export const EXTERNAL_BASE = `http://${EXTERNAL_HOST}`;
export const LEGACY_ISSUER = 'https://legacy-idp.example.com';
export const NEW_ISSUER = 'https://new-idp.example.com';
export const CONNECTION = 'demo';
const PIN_TOKENS = { legacy: `pin-legacy-${crypto.randomBytes(12).toString('hex')}`, new: `pin-new-${crypto.randomBytes(12).toString('hex')}` };
/** The stack's admin token (role approver): `callback-proxy stage set --token` against its admin listener. */
export const STACK_ADMIN_TOKEN = `stack-admin-${crypto.randomBytes(12).toString('hex')}`;

export interface StageOptions {
  percent?: number;
  /** Epoch ms; null removes it. */
  drainUntil?: number | null;
  sunsetAt?: number | null;
}

export interface StackOptions extends StageOptions {
  stage?: Stage;
  /** Backends announce their flows to the Pin API (default true). Off: no pins are ever created. */
  pins?: boolean;
  /** Start nginx: 'auto' (default) when found on PATH, true = required, false = never. */
  nginx?: boolean | 'auto';
  /** Start the front proxy (Envoy stand-in): true/'grpc' (default) asks over gRPC, 'http' over Envoy's http_service. */
  front?: boolean | 'grpc' | 'http';
  /** Policy directory (default policies/callback; the bench's pins-off run uses its own). */
  policyDir?: string;
  logLevel?: string;
  /** Keep decision-log lines in memory (default true; the benchmark turns it off). */
  decisionLog?: boolean;
  /** JSON-lines file for the stage audit chain (`callback-proxy audit verify`); default: none. */
  auditLog?: string;
  /** The removal report's legacy-quiet period (registry lifecycle.removal.quiet_s; default a week). */
  removalQuietS?: number;
  /** Registry `limits` to set (the rest keep their defaults). */
  limits?: Record<string, number>;
}

export interface Stack {
  app: App;
  legacy: RunningBackend;
  neu: RunningBackend;
  nginx: RunningNginx | null;
  front: RunningFrontProxy | null;
  httpPort: number;
  grpcPort: number;
  /** The admin listener (stage API, removal report, cockpit, /metrics). */
  adminPort: number;
  registryFile: string;
  webhookSecret: string;
  /** Everything ext-authz logged and every decision-log line (for the secrets grep). */
  logs: string[];
  decisionLines: string[];
  stage(): Stage;
  /** Rewrites the registry file and waits (bounded) until the running app has loaded it. */
  setStage(stage: Stage, opts?: StageOptions): Promise<void>;
  /** A browser whose auth.example.com goes through nginx (default) or the gRPC front proxy. */
  browser(via?: 'nginx' | 'front'): ScriptedBrowser;
  /** Base URL (127.0.0.1) of a proxy, for raw requests. */
  proxyUrl(via: 'nginx' | 'front'): string;
  stop(): Promise<void>;
}

function b64(n: number): string {
  return crypto.randomBytes(n).toString('base64url');
}

/** Posts a pin to the Pin API (HTTP/JSON, bearer token of the announcing backend). */
function postPin(httpPort: number, token: string, body: Record<string, unknown>): Promise<void> {
  const text = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port: httpPort, method: 'POST', path: '/v1/pins', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) } },
      (res) => {
        res.resume();
        res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`pin API answered ${res.statusCode}`))));
      },
    );
    req.on('error', reject);
    req.end(text);
  });
}

export async function startStack(opts: StackOptions = {}): Promise<Stack> {
  const pinsOn = opts.pins !== false;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cbp-stack-'));
  const registryFile = path.join(dir, 'registry.yaml');
  const webhookSecret = `whsec_${crypto.randomBytes(24).toString('base64')}`;
  const keys = {
    hash_key: b64(32), state_keys: { new: b64(32) }, cookie_key: b64(32), pin_api_tokens: PIN_TOKENS,
    admin_tokens: [{ name: 'stack-operator', token: STACK_ADMIN_TOKEN, role: 'approver' }],
  };
  let app: App | null = null;
  let httpPort = 0;

  // A backend announces each flow it starts through the Pin API (docs/architecture.md, "Pins" way 2); SAML flows are
  // keyed by their RelayState.
  const registerPin = (backend: 'legacy' | 'new') => async (p: PinRegistration): Promise<void> => {
    if (!pinsOn) return;
    const flowKeyType = p.kind === 'saml' ? 'relay_state' : 'state';
    await postPin(httpPort, PIN_TOKENS[backend], { connection: CONNECTION, backend, state: p.flowKey, responseMode: p.responseMode, flowKeyType });
  };
  const legacy = await startBackend({ name: 'legacy', issuer: LEGACY_ISSUER, externalBase: EXTERNAL_BASE, registerPin: registerPin('legacy') });
  const neu = await startBackend({ name: 'new', issuer: NEW_ISSUER, externalBase: EXTERNAL_BASE, registerPin: registerPin('new') });

  let stage: Stage = opts.stage ?? 'observe';
  let stageOpts: StageOptions = { percent: opts.percent, drainUntil: opts.drainUntil, sunsetAt: opts.sunsetAt };
  const registryText = (): string => {
    const conn: Record<string, unknown> = {
      name: CONNECTION,
      hosts: [EXTERNAL_HOST],
      client_ids: ['demo-client'],
      routes: {
        oauth_callback: ['/oauth2/callback'], saml_acs: ['/saml/acs'], login_start: ['/login', '/saml/login'],
        webhook: ['/webhooks/idp'], logout: ['/backchannel-logout'], agent: [],
      },
      backends: [
        { id: 'legacy', role: 'legacy', cluster: 'legacy_idp', address: `127.0.0.1:${legacy.port}`, issuer: LEGACY_ISSUER, saml_entity_id: LEGACY_ISSUER, iss_parameter_supported: true },
        { id: 'new', role: 'new', cluster: 'new_idp', address: `127.0.0.1:${neu.port}`, issuer: NEW_ISSUER, saml_entity_id: NEW_ISSUER, iss_parameter_supported: true },
      ],
      stage,
      canary_percent: stageOpts.percent ?? (stage === 'canary' ? 50 : 0),
      // Drawn server-side at login start and pinned by the cookie hint: a canary splits logins, and no
      // value a user sends (login_hint, client_id, address) can choose the side.
      cohort_key: 'random',
      require_pin: true,
      pin_ttl_s: 600,
      return_params: ['returnTo'],
      webhook: { scheme: 'standard', secrets: [{ id: 'demo', secret: webhookSecret }], tolerance_s: 300 },
    };
    if (stageOpts.drainUntil != null) conn.drain_until = new Date(stageOpts.drainUntil).toISOString();
    if (stageOpts.sunsetAt != null) conn.sunset_at = new Date(stageOpts.sunsetAt).toISOString();
    const issuer = (b: RunningBackend, id: string) => ({ issuer: b.as.issuer, backend: id, jwks: b.as.jwks(), algs: ['RS256'], audiences: ['demo-client'], clock_skew_s: 60 });
    const doc: Record<string, unknown> = { version: 1, connections: [conn], issuers: [issuer(legacy, 'legacy'), issuer(neu, 'new')], keys };
    if (opts.removalQuietS !== undefined) doc.lifecycle = { removal: { quiet_s: opts.removalQuietS } };
    if (opts.limits !== undefined) doc.limits = opts.limits;
    return stringify(doc);
  };
  fs.writeFileSync(registryFile, registryText());

  const logs: string[] = [];
  const stream = new PassThrough();
  stream.on('data', (c) => logs.push(String(c)));
  const sink = memorySink();
  app = new App({
    configFile: registryFile,
    policyDir: opts.policyDir,
    grpcAddr: '127.0.0.1:0',
    httpAddr: '127.0.0.1:0',
    adminAddr: '127.0.0.1:0',
    auditLog: opts.auditLog ?? null,
    graceMs: 0,
    drainDeadlineMs: 2000,
    logger: createLogger({ stream, level: opts.logLevel ?? 'info' }),
    decisionLog: opts.decisionLog === false ? null : sink,
    watch: true,
  });
  const listening = await app.start();
  httpPort = listening.httpPort;
  const running = app;

  let nginx: RunningNginx | null = null;
  const wantNginx = opts.nginx ?? 'auto';
  if (wantNginx === true || (wantNginx === 'auto' && findNginx() !== null)) {
    nginx = await startNginx({ authzAddr: `127.0.0.1:${httpPort}`, legacyAddr: `127.0.0.1:${legacy.port}`, newAddr: `127.0.0.1:${neu.port}` });
  }
  const front = opts.front === false
    ? null
    : await startFrontProxy({
      grpcAddr: `127.0.0.1:${listening.grpcPort}`,
      authz: opts.front === 'http' ? 'http' : 'grpc',
      httpAddr: `127.0.0.1:${httpPort}`,
      backends: { legacy: `127.0.0.1:${legacy.port}`, new: `127.0.0.1:${neu.port}` },
    });

  const proxyUrl = (via: 'nginx' | 'front'): string => {
    const p = via === 'nginx' ? nginx : front;
    if (!p) throw new Error(`${via} is not running in this stack`);
    return p.url;
  };

  return {
    app: running,
    legacy,
    neu,
    nginx,
    front,
    httpPort,
    grpcPort: listening.grpcPort,
    adminPort: listening.adminPort,
    registryFile,
    webhookSecret,
    logs,
    decisionLines: sink.lines,
    stage: () => stage,
    async setStage(next, o = {}) {
      const before = running.current?.registry();
      const logMark = logs.length;
      const prev = { stage, stageOpts };
      stage = next;
      stageOpts = { ...stageOpts, ...o };
      const write = (): void => {
        const tmp = `${registryFile}.tmp`;
        fs.writeFileSync(tmp, registryText());
        fs.renameSync(tmp, registryFile); // atomic replace, as a config-map update does
      };
      // The same text is not a change: the watcher compares digests and reloads nothing.
      if (registryText() === fs.readFileSync(registryFile, 'utf8')) return;
      write();
      const deadline = Date.now() + 5000;
      for (let i = 0; i < 500 && Date.now() < deadline; i++) {
        const now = running.current?.registry();
        if (now && now !== before && now.connections[0].stage === next) return;
        // A file the schema rejects is not loaded: the last good registry stays (say so, fast).
        if (logs.slice(logMark).some((l) => l.includes('"registry_reload_failed"'))) {
          ({ stage, stageOpts } = prev);
          write();
          throw new Error(`registry with stage ${next} was rejected; the last good one stays`);
        }
        await new Promise((r) => setTimeout(r, 10));
      }
      throw new Error(`ext-authz did not load stage ${next} within 5 s`);
    },
    browser(via = 'nginx') {
      return new ScriptedBrowser({ hostMap: { [EXTERNAL_HOST]: new URL(proxyUrl(via)).host } });
    },
    proxyUrl,
    async stop() {
      await front?.stop().catch(() => undefined);
      await nginx?.stop().catch(() => undefined);
      await running.stop().catch(() => undefined);
      await Promise.all([legacy.close(), neu.close()]);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Standard Webhooks headers (webhook-id / -timestamp / -signature) over the raw body (text as UTF-8, or bytes). */
export function signWebhook(secret: string, body: string | Buffer, id = `msg_${b64(9)}`, tsSec = Math.floor(Date.now() / 1000)): Record<string, string> {
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const sig = crypto.createHmac('sha256', key).update(`${id}.${tsSec}.`).update(body).digest('base64');
  return { 'webhook-id': id, 'webhook-timestamp': String(tsSec), 'webhook-signature': `v1,${sig}` };
}

/** Whether suites needing nginx run: yes when installed; a loud skip otherwise, a failure under CI. */
export function nginxAvailability(): 'run' | 'skip' {
  if (findNginx() !== null) return 'run';
  if (process.env.CI === 'true') throw new Error('nginx is required when CI=true (Debian: apt-get install nginx-light)');
  console.warn('\n*** nginx not found: the end-to-end suite through nginx is SKIPPED (install nginx-light) ***\n');
  return 'skip';
}
