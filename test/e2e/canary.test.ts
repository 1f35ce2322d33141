// The canary test (docs/threat-model.md T-L1..T-L5, T-P3): the real CLI (`serve --config … --log-level
// debug --decision-log <file>`) in a child process, real nginx in front of its HTTP listener, and
// canary secrets sent through every field of every mode — gRPC ext_authz, Envoy http_service,
// nginx-style, Traefik-style and Caddy-style forward-auth, real nginx, the Pin API over gRPC and HTTP,
// webhooks, SAML, form_post, back-channel logout. Every output is captured — the process's stdout and
// stderr, the decision log file, every gRPC and HTTP response (status, headers, body, error details),
// the metrics text, nginx's access and error logs — and searched for every canary: zero hits.
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { SignJWT } from 'jose';
import { stringify } from 'yaml';
import { createDemoSetup } from '../../ext-authz/src/config/default';
import type { DemoSetup } from '../../ext-authz/src/config/default';
import { loadProtos } from '../../ext-authz/src/check/protos';
import { nginxAvailability } from '../../demo/harness';
import { startNginx } from '../../demo/nginx';
import type { RunningNginx } from '../../demo/nginx';
import { spawnCli } from '../cli/run-cli';
import { checkRequestFor, grpcCheck, httpRequest } from '../support/app-harness';

jest.setTimeout(120_000);

const HOST = 'auth.example.com';
const ISS_LEGACY = 'https://legacy-idp.example.com';
const PIN_TOKEN = `pin-${randomBytes(12).toString('hex')}`;

/** One canary per field, each unique and unmistakable. */
const tag = randomBytes(4).toString('hex');
const C = Object.fromEntries(
  ['QUERYCODE', 'QUERYSTATE', 'QUERYOTHER', 'LOGINHINT', 'JSESSION', 'PATHSTATE', 'PATHESCAPED', 'FRAGMENT', 'FORMSTATE', 'FORMCODE', 'FORMOTHER', 'IDTSUB', 'IDTNONCE',
    'LOGOUTSID', 'SAMLNAMEID', 'SAMLSIG', 'RELAY', 'COOKIE', 'HINTCOOKIE', 'BEARER', 'PROXYAUTH', 'WHSIG', 'WHID', 'WHBODY', 'STRIPE', 'HUBSIG', 'GHDELIVERY',
    'PINBEARER', 'PINSTATE', 'PINRELAY', 'PINCONN', 'PINBACKEND', 'PINMODE', 'PINJSON', 'USERINFO', 'AGENTBEARER'].map((k) => [k, `CNRY${k}${tag}`]),
) as Record<string, string>;

interface Captured {
  label: string;
  text: string;
}

let dir: string;
let setup: DemoSetup;
let child: ReturnType<typeof spawnCli>;
let stdout = '';
let stderr = '';
let ports: { grpc: number; http: number };
let nginx: RunningNginx | null = null;
let upstreams: http.Server[] = [];
let authz: grpc.Client & Record<string, any>;
let pins: grpc.Client & Record<string, any>;
const outputs: Captured[] = [];
/** Secrets we did not choose (minted states): searched for everywhere except the reply that handed them out. */
const minted: string[] = [];
let idToken = '';
let logoutToken = '';
let samlResponse = '';

function record(label: string, v: unknown): void {
  outputs.push({ label, text: typeof v === 'string' ? v : JSON.stringify(v) });
}

async function upstream(name: string): Promise<http.Server> {
  const s = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => res.end(`served by ${name}`));
  });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return s;
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cbp-canary-'));
  setup = createDemoSetup();
  const reg = structuredClone(setup.registry);
  reg.keys.pin_api_tokens = { legacy: PIN_TOKEN, new: PIN_TOKEN };
  reg.connections[0].routes.agent = ['/agent/callback'];
  const file = path.join(dir, 'registry.yaml');
  fs.writeFileSync(file, stringify(reg));
  child = spawnCli(['serve', '--config', file, '--grpc-addr', '127.0.0.1:0', '--http-addr', '127.0.0.1:0', '--log-level', 'debug',
    '--decision-log', path.join(dir, 'decisions.jsonl'), '--grace-ms', '0']);
  child.stdout.on('data', (c) => (stdout += String(c)));
  ports = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not become ready:\n${stderr}`)), 60_000);
    child.stderr.on('data', (c) => {
      stderr += String(c);
      const m = /callback-proxy ready: grpc=127\.0\.0\.1:(\d+) http=127\.0\.0\.1:(\d+)/.exec(stderr);
      if (m) {
        clearTimeout(timer);
        resolve({ grpc: Number(m[1]), http: Number(m[2]) });
      }
    });
  });
  const protos = loadProtos();
  authz = new protos.AuthorizationClient(`127.0.0.1:${ports.grpc}`, grpc.credentials.createInsecure()) as any;
  pins = new protos.PinsClient(`127.0.0.1:${ports.grpc}`, grpc.credentials.createInsecure()) as any;
  if (nginxAvailability() === 'run') {
    upstreams = [await upstream('legacy'), await upstream('new')];
    const addr = (s: http.Server): string => `127.0.0.1:${(s.address() as AddressInfo).port}`;
    nginx = await startNginx({ authzAddr: `127.0.0.1:${ports.http}`, legacyAddr: addr(upstreams[0]), newAddr: addr(upstreams[1]) });
  }
  const k = setup.issuerKeys.legacy;
  const now = Math.floor(Date.now() / 1000);
  idToken = await new SignJWT({ iss: ISS_LEGACY, aud: 'demo-client', sub: C.IDTSUB, nonce: C.IDTNONCE, iat: now, exp: now + 300 })
    .setProtectedHeader({ alg: k.alg, kid: k.kid }).sign(k.privateKey);
  logoutToken = await new SignJWT({ iss: ISS_LEGACY, aud: 'demo-client', sid: C.LOGOUTSID, jti: `j-${tag}`, iat: now, events: { 'http://schemas.openid.net/event/backchannel-logout': {} } })
    .setProtectedHeader({ alg: k.alg, kid: k.kid, typ: 'logout+jwt' }).sign(k.privateKey);
  samlResponse = Buffer.from(
    `<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_r1">` +
    `<saml:Issuer>${ISS_LEGACY}</saml:Issuer><saml:Assertion><saml:Subject><saml:NameID>${C.SAMLNAMEID}</saml:NameID></saml:Subject>` +
    `<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignatureValue>${C.SAMLSIG}</ds:SignatureValue></ds:Signature></saml:Assertion></samlp:Response>`,
  ).toString('base64');
});

afterAll(async () => {
  authz?.close();
  pins?.close();
  if (child && child.exitCode === null) child.kill('SIGKILL');
  await nginx?.stop().catch(() => undefined);
  for (const s of upstreams) await new Promise<void>((r) => s.close(() => r()));
  fs.rmSync(dir, { recursive: true, force: true });
});

/** One request as a forwarding layer would describe it. */
interface Probe {
  name: string;
  method: 'GET' | 'POST';
  path: string;
  headers?: Record<string, string>;
  body?: string;
}

const SECRET_HEADERS = (): Record<string, string> => ({
  authorization: `Bearer ${C.BEARER}`,
  'proxy-authorization': `Basic ${C.PROXYAUTH}`,
  cookie: `sid=${C.COOKIE}; __Host-cbp_hint=v1.new.9999999999.${C.HINTCOOKIE}`,
  'stripe-signature': `t=1,v1=${C.STRIPE}`,
  'x-hub-signature-256': `sha256=${C.HUBSIG}`,
  'x-github-delivery': C.GHDELIVERY,
});
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

function probes(): Probe[] {
  const q = (o: Record<string, string>): string => Object.entries(o).map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&');
  const ts = String(Math.floor(Date.now() / 1000));
  return [
    { name: 'query', method: 'GET', path: `/oauth2/callback?${q({ code: C.QUERYCODE, state: C.QUERYSTATE, login_hint: C.LOGINHINT, extra: C.QUERYOTHER })}`, headers: SECRET_HEADERS() },
    { name: 'query duplicate', method: 'GET', path: `/oauth2/callback?${q({ code: C.QUERYCODE, state: C.QUERYSTATE })}&state=${C.QUERYSTATE}` },
    { name: 'path param', method: 'GET', path: `/oauth2/callback;jsessionid=${C.JSESSION}?${q({ code: C.QUERYCODE })}` },
    { name: 'path param webhook', method: 'POST', path: `/webhooks/idp;state=${C.PATHSTATE}` },
    { name: 'path param escaped', method: 'GET', path: `/oauth2/callback%3Bjsessionid=${C.PATHESCAPED}` },
    { name: 'fragment', method: 'GET', path: `/oauth2/callback?code=x#access_token=${C.FRAGMENT}` },
    { name: 'absolute-form userinfo', method: 'GET', path: `https://user:${C.USERINFO}@${HOST}/oauth2/callback?code=y` },
    { name: 'form_post', method: 'POST', path: '/oauth2/callback', headers: { ...FORM, ...SECRET_HEADERS() }, body: q({ state: C.FORMSTATE, code: C.FORMCODE, id_token: idToken, other: C.FORMOTHER }) },
    { name: 'saml', method: 'POST', path: '/saml/acs', headers: FORM, body: q({ SAMLResponse: samlResponse, RelayState: C.RELAY }) },
    { name: 'logout', method: 'POST', path: '/backchannel-logout', headers: FORM, body: q({ logout_token: logoutToken }) },
    { name: 'agent', method: 'POST', path: '/agent/callback', headers: { authorization: `Bearer ${C.AGENTBEARER}`, 'content-type': 'application/json' }, body: `{"x":"${C.WHBODY}"}` },
    {
      name: 'webhook',
      method: 'POST',
      path: '/webhooks/idp',
      headers: { ...SECRET_HEADERS(), 'content-type': 'application/json', 'webhook-id': `msg_${C.WHID}`, 'webhook-timestamp': ts, 'webhook-signature': `v1,${C.WHSIG} v1,${Buffer.from(C.WHSIG).toString('base64')}` },
      body: `{"type":"user.updated","secret":"${C.WHBODY}"}`,
    },
  ];
}

async function viaGrpc(p: Probe): Promise<void> {
  try {
    record(`grpc ${p.name}`, await grpcCheck(authz, checkRequestFor({ method: p.method, path: p.path, headers: p.headers, body: p.body })));
    // And as Envoy sends it with pack_as_bytes (raw_body).
    if (p.body !== undefined) record(`grpc raw ${p.name}`, await grpcCheck(authz, checkRequestFor({ method: p.method, path: p.path, headers: p.headers, body: Buffer.from(p.body) })));
  } catch (e) {
    record(`grpc ${p.name} error`, { message: (e as Error).message, details: (e as grpc.ServiceError).details, metadata: (e as grpc.ServiceError).metadata?.toJSON() });
  }
}

async function viaHttp(label: string, method: string, p: string, headers: Record<string, string>, body?: string): Promise<void> {
  const r = await httpRequest(ports.http, method, p, headers, body);
  record(`${label}`, r);
}

/** A raw request to nginx: the path is sent as is (no URL normalisation by the client). */
function viaNginx(p: Probe): Promise<void> {
  return new Promise((resolve, reject) => {
    const target = p.path.startsWith('https://') ? p.path.replace(/^https:\/\/[^/]+/, '') : p.path;
    const headers: Record<string, string> = { host: HOST, ...(p.headers ?? {}) };
    if (p.body !== undefined) headers['content-length'] = String(Buffer.byteLength(p.body));
    const req = http.request({ host: '127.0.0.1', port: nginx?.port, method: p.method, path: target, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        record(`nginx ${p.name}`, { status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') });
        resolve();
      });
    });
    req.on('error', reject);
    req.end(p.body);
  });
}

function pinCall(method: 'CreatePin' | 'MintState', body: Record<string, unknown>, bearer: string): Promise<void> {
  const md = new grpc.Metadata();
  md.set('authorization', `Bearer ${bearer}`);
  return new Promise((resolve) => {
    pins[method](body, md, (e: grpc.ServiceError | null, v: unknown) => {
      if (e) record(`pin grpc ${method} error`, { code: e.code, details: e.details, message: e.message, metadata: e.metadata?.toJSON() });
      else if (method === 'MintState') minted.push((v as { state: string }).state);
      else record(`pin grpc ${method}`, v);
      resolve();
    });
  });
}

test('canaries through every field of every mode reach no output', async () => {
  for (const p of probes()) {
    await viaGrpc(p);
    const h = { host: HOST, ...(p.headers ?? {}) };
    const target = p.path;
    // Envoy http_service: the original request under the listener's prefix.
    if (!target.startsWith('https://')) await viaHttp(`envoy-http ${p.name}`, p.method, `/envoy/authz${target}`, h, p.body);
    // nginx-style auth_request (no body), Traefik-style (body forwarded), Caddy-style (GET, no body).
    const orig = { ...(p.headers ?? {}), 'x-original-method': p.method, 'x-original-uri': target, 'x-original-host': HOST, 'x-original-remote-addr': '203.0.113.7' };
    await viaHttp(`nginx-style ${p.name}`, 'GET', '/authz', orig);
    const fwd = { ...(p.headers ?? {}), 'x-forwarded-method': p.method, 'x-forwarded-uri': target, 'x-forwarded-host': HOST, 'x-forwarded-proto': 'https', 'x-real-ip': '203.0.113.7' };
    await viaHttp(`traefik-style ${p.name}`, p.method, '/forward-auth', fwd, p.body);
    await viaHttp(`caddy-style ${p.name}`, 'GET', '/authz', fwd);
    if (nginx) await viaNginx(p);
  }

  // A genuine flow with canary headers, allowed (its decision line is a debug line), and a valid
  // signed webhook whose body holds a canary.
  await pinCall('MintState', { connection: 'demo', backend: 'legacy' }, PIN_TOKEN);
  const okPath = `/oauth2/callback?code=${C.QUERYCODE}ok&state=${encodeURIComponent(minted[0])}&iss=${encodeURIComponent(ISS_LEGACY)}`;
  const allowed = await grpcCheck(authz, checkRequestFor({ path: okPath, headers: SECRET_HEADERS() }));
  expect(allowed.status.code).toBe(0);
  record('grpc allowed flow', allowed);
  const { signWebhook } = await import('../../demo/harness');
  const whBody = `{"type":"user.updated","secret":"${C.WHBODY}"}`;
  const wh = await httpRequest(ports.http, 'POST', '/envoy/authz/webhooks/idp', { host: HOST, 'content-type': 'application/json', ...signWebhook(setup.webhookSecret, whBody) }, whBody);
  expect(wh.status).toBe(200);
  record('envoy-http signed webhook', wh);

  // The Pin API, both transports: canary bearer tokens, canary bodies, a canary where JSON should be.
  await pinCall('CreatePin', { connection: 'demo', backend: 'legacy', state: C.PINSTATE }, C.PINBEARER);
  await pinCall('MintState', { connection: 'demo', backend: 'new' }, C.PINBEARER);
  await pinCall('CreatePin', { connection: 'demo', backend: 'legacy', state: C.PINSTATE }, PIN_TOKEN);
  await pinCall('CreatePin', { connection: 'demo', backend: 'legacy', state: C.PINRELAY, flowKeyType: 'relay_state' }, PIN_TOKEN);
  await pinCall('CreatePin', { connection: C.PINCONN, backend: 'legacy', state: C.PINSTATE }, PIN_TOKEN);
  await pinCall('CreatePin', { connection: 'demo', backend: C.PINBACKEND, state: C.PINSTATE }, PIN_TOKEN);
  await pinCall('CreatePin', { connection: 'demo', backend: 'legacy', state: C.PINSTATE, responseMode: C.PINMODE }, PIN_TOKEN);
  await pinCall('CreatePin', { connection: 'demo', backend: 'legacy', state: C.PINSTATE, flowKeyType: C.PINMODE }, PIN_TOKEN);
  const json = (o: unknown): string => JSON.stringify(o);
  const auth = (t: string): Record<string, string> => ({ authorization: `Bearer ${t}`, 'content-type': 'application/json' });
  for (const [label, p, headers, body] of [
    ['pin http bad bearer', '/v1/pins', auth(C.PINBEARER), json({ connection: 'demo', backend: 'legacy', state: C.PINSTATE })],
    ['pin http mint bad bearer', '/v1/pins:mint', auth(C.PINBEARER), json({ connection: 'demo', backend: 'new' })],
    ['pin http create', '/v1/pins', auth(PIN_TOKEN), json({ connection: 'demo', backend: 'new', state: `${C.PINSTATE}2` })],
    ['pin http unknown connection', '/v1/pins', auth(PIN_TOKEN), json({ connection: C.PINCONN, backend: 'legacy', state: C.PINSTATE })],
    ['pin http unknown backend', '/v1/pins', auth(PIN_TOKEN), json({ connection: 'demo', backend: C.PINBACKEND, state: C.PINSTATE })],
    ['pin http bad mode', '/v1/pins', auth(PIN_TOKEN), json({ connection: 'demo', backend: 'legacy', state: C.PINSTATE, responseMode: C.PINMODE })],
    ['pin http not json', '/v1/pins', auth(PIN_TOKEN), `{"state":"${C.PINJSON}",`],
    ['pin http big', '/v1/pins', auth(PIN_TOKEN), json({ state: C.PINJSON, pad: 'x'.repeat(20_000) })],
  ] as const) {
    await viaHttp(label, 'POST', p, headers, body);
  }
  const mintHttp = await httpRequest(ports.http, 'POST', '/v1/pins:mint', auth(PIN_TOKEN), json({ connection: 'demo', backend: 'new' }));
  minted.push(JSON.parse(mintHttp.body).state as string);

  // Every other output: metrics, health, then the process's own streams after a clean stop.
  record('metrics', (await httpRequest(ports.http, 'GET', '/metrics', {})).body);
  record('readyz', await httpRequest(ports.http, 'GET', '/readyz', {}));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  child.kill('SIGTERM');
  expect(await exited).toBe(0);
  record('stdout', stdout);
  record('stderr', stderr);
  record('decision log', fs.readFileSync(path.join(dir, 'decisions.jsonl'), 'utf8'));
  if (nginx) {
    record('nginx access log', nginx.accessLog());
    record('nginx error log', nginx.errorLog());
  }

  // The run did what it claims: debug lines for allows, a decision event per check, masked targets.
  const decisions = fs.readFileSync(path.join(dir, 'decisions.jsonl'), 'utf8').trim().split('\n');
  expect(decisions.length).toBeGreaterThanOrEqual(probes().length * 5);
  expect(stdout).toContain('"level":"debug"');
  expect(stdout).toContain('/oauth2/callback;jsessionid=REDACTED');
  expect(stdout).toContain('"reasons":["path_param"]');
  if (nginx) expect(nginx.accessLog()).toContain(';REDACTED');

  // The search: every canary (and the tokens and SAML response that carry some), in every output.
  const needles = [...Object.values(C), idToken, idToken.split('.')[2], logoutToken, logoutToken.split('.')[2], samlResponse];
  const hits: string[] = [];
  for (const o of outputs) for (const n of needles) if (o.text.includes(n)) hits.push(`${o.label}: ${n.slice(0, 24)}`);
  // Minted states are secrets too; the reply that handed one out is the only place it may be.
  const everything = outputs.map((o) => o.text).join('\n');
  for (const s of minted) if (everything.includes(s)) hits.push('a minted state');
  process.stdout.write(`canary search: ${needles.length + minted.length} secrets × ${outputs.length} captured outputs (${everything.length} chars): ${hits.length} hits\n`);
  expect(hits).toEqual([]);
  expect(outputs.length).toBeGreaterThan(60);
});
