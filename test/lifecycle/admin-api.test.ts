// The stage API on a real App (memory store): authentication and roles, the transition rules, approval,
// tickets, freeze windows, dry runs, scheduling and reset — each refusal with its code and in the audit
// trail — and the effective stage reaching the facts (a login start routes by it).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createDemoSetup, DEMO_ADMIN_TOKEN } from '../../ext-authz/src/config/default';
import { verifyChain } from '../../ext-authz/src/lifecycle/audit-chain';
import { startHarness } from '../support/app-harness';
import type { Harness } from '../support/app-harness';
import { adminCall, mountAdmin } from '../support/admin-listener';
import type { AdminListener } from '../support/admin-listener';

jest.setTimeout(60_000);

const VIEWER = 'viewer-token-0123456789abcdef';
const OPERATOR = 'operator-token-0123456789abcdef';

let dir: string;
let h: Harness;
let admin: AdminListener;
let auditFile: string;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cbp-admin-'));
  auditFile = path.join(dir, 'audit.jsonl');
  const demo = createDemoSetup();
  const reg = demo.registry;
  reg.keys.admin_tokens!.push({ name: 'vera-viewer', token: VIEWER, role: 'viewer' }, { name: 'otto-operator', token: OPERATOR, role: 'operator' });
  reg.connections[0].require_approval = true;
  h = await startHarness({ demo, auditLog: auditFile, lifecycle: { pollMs: 50 } });
  admin = await mountAdmin(h.app.adminRoutes);
});

afterAll(async () => {
  await admin?.close();
  await h?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const call = (method: string, p: string, token: string | undefined, body?: unknown) => adminCall(admin.url, method, p, { token, body });
const setStage = (token: string, body: Record<string, unknown>) => call('POST', '/v1/connections/demo/stage', token, body);
const loginStart = () => h.ask('grpc', { path: '/login?client_id=demo-client' });

test('no token, an unknown token and a Pin API token are unauthenticated; a viewer reads file, override and effective stage', async () => {
  for (const token of [undefined, 'not-an-admin-token-at-all', 'demo-pin-api-token-not-for-production']) {
    const r = await call('GET', '/v1/connections', token);
    expect(r.status).toBe(401);
    expect(r.json.error).toBe('unauthenticated');
    expect(r.headers.get('www-authenticate')).toBe('Bearer');
  }
  const r = await call('GET', '/v1/connections', VIEWER);
  expect(r.status).toBe(200);
  expect(r.json.store).toBe('memory');
  const demo = r.json.connections[0];
  expect(demo).toMatchObject({ name: 'demo', file: { stage: 'canary', canary_percent: 50 }, override: null, effective: { stage: 'canary', canary_percent: 50 }, stage_known: true, require_approval: true });
  expect(r.headers.get('cache-control')).toBe('no-store');
  expect(JSON.stringify(r.json)).not.toContain(DEMO_ADMIN_TOKEN);
  expect((await call('GET', '/v1/connections/nope', VIEWER)).status).toBe(404);
  // No admin log line carries a presented token.
  expect(h.logs.join('')).not.toContain('not-an-admin-token-at-all');
});

test('a viewer may not change a stage: forbidden, and the refusal is audited with its actor', async () => {
  const r = await setStage(VIEWER, { stage: 'cutover', reason: 'viewer tries' });
  expect(r.status).toBe(403);
  expect(r.json.error).toBe('forbidden');
  const hist = await call('GET', '/v1/connections/demo/history', VIEWER);
  expect(hist.json.records.at(-1)).toMatchObject({ actor: 'vera-viewer', role: 'viewer', outcome: 'refused', error: 'forbidden', to: { stage: 'cutover' } });
});

test('illegal transitions, a missing reason, approval and the rollback ticket are refused with their codes', async () => {
  // canary → observe would deny the flows already pinned to new.
  expect((await setStage(OPERATOR, { stage: 'observe', reason: 'back off' })).json.error).toBe('illegal_transition');
  // Roles are checked before the table: an operator asking for retired needs approval first.
  expect((await setStage(OPERATOR, { stage: 'retired', reason: 'skip cutover' })).json.error).toBe('approval_required');
  expect((await setStage(DEMO_ADMIN_TOKEN, { stage: 'retired', reason: 'skip cutover' })).json.error).toBe('illegal_transition');
  expect((await setStage(OPERATOR, { stage: 'canary', reason: 'no percent' })).json.error).toBe('invalid_argument');
  expect((await setStage(OPERATOR, { stage: 'cutover' })).json).toMatchObject({ error: 'invalid_argument', message: expect.stringContaining('reason') });
  expect((await setStage(OPERATOR, { stage: 'cutover', reason: 'x', bogus: 1 })).json).toMatchObject({ error: 'invalid_argument', message: expect.stringContaining('bogus') });
  const approval = await setStage(OPERATOR, { stage: 'cutover', reason: 'go' });
  expect(approval.status).toBe(403);
  expect(approval.json.error).toBe('approval_required');
  // T-D5: a rollback needs the same approval as a forward move; T-D3: and an incident id.
  expect((await setStage(OPERATOR, { stage: 'rollback', reason: 'incident', ticket: 'INC-1' })).json.error).toBe('approval_required');
  const ticket = await setStage(DEMO_ADMIN_TOKEN, { stage: 'rollback', reason: 'incident' });
  expect(ticket.json.error).toBe('ticket_required');
  const codes = (await call('GET', '/v1/connections/demo/history', VIEWER)).json.records.map((r: { error: string | null }) => r.error);
  // Malformed bodies are refused before they become a request; every refused request is recorded.
  expect(codes.filter((c: string | null) => c !== null)).toEqual(['forbidden', 'illegal_transition', 'approval_required', 'illegal_transition', 'invalid_argument', 'approval_required', 'approval_required', 'ticket_required']);
});

test('a dry run states the effect and records nothing; an operator moves canary 50 → 10 and the facts follow', async () => {
  const before = (await call('GET', '/v1/audit', VIEWER)).json.head.seq;
  const dry = await setStage(OPERATOR, { stage: 'canary', canary_percent: 10, reason: 'slow down', dry_run: true });
  expect(dry.status).toBe(200);
  expect(dry.json).toMatchObject({ dry_run: true, audit: null, effect: { to: { stage: 'canary', canary_percent: 10 }, message: expect.stringContaining('10 % of new flows go to new') } });
  expect((await call('GET', '/v1/audit', VIEWER)).json.head.seq).toBe(before);

  const r = await setStage(OPERATOR, { stage: 'canary', canary_percent: 10, reason: 'slow down', ticket: 'CHG-1' });
  expect(r.status).toBe(200);
  expect(r.json.audit).toMatchObject({ action: 'stage_set', outcome: 'applied', actor: 'otto-operator', from: { stage: 'canary', canary_percent: 50 }, to: { stage: 'canary', canary_percent: 10 }, ticket: 'CHG-1' });
  expect(r.json.connection).toMatchObject({ file: { stage: 'canary', canary_percent: 50 }, override: { stage: 'canary', canary_percent: 10, set_by: 'otto-operator' }, effective: { canary_percent: 10 } });
  expect(h.app.current?.factsDeps().connections.get('demo')?.migration.percent).toBe(10);
});

test('cutover needs the approver; afterwards every login start goes to new', async () => {
  const r = await setStage(DEMO_ADMIN_TOKEN, { stage: 'cutover', reason: 'go live', drain_until: new Date(Date.now() + 60_000).toISOString() });
  expect(r.status).toBe(200);
  expect(r.json.effect.message).toMatch(/pinned to legacy; they drain until/);
  for (let i = 0; i < 3; i++) expect(await loginStart()).toMatchObject({ allowed: true, backend: 'new' });
});

test('a freeze window refuses changes (change_frozen)', async () => {
  const reg = h.app.current!.registry();
  reg.lifecycle!.freeze_windows.push({ start: Date.now() - 1000, end: Date.now() + 60_000, reason: 'year-end freeze' });
  try {
    const r = await setStage(DEMO_ADMIN_TOKEN, { stage: 'canary', canary_percent: 50, reason: 'back' });
    expect(r.status).toBe(423);
    expect(r.json).toMatchObject({ error: 'change_frozen', message: expect.stringContaining('year-end freeze') });
  } finally {
    reg.lifecycle!.freeze_windows.length = 0;
  }
});

test('a scheduled change is accepted (202), shown, and applied once when due', async () => {
  const at = new Date(Date.now() + 1500).toISOString();
  const r = await setStage(DEMO_ADMIN_TOKEN, { stage: 'canary', canary_percent: 20, reason: 'scheduled step back', at });
  expect(r.status).toBe(202);
  expect(r.json).toMatchObject({ scheduled: true, audit: { action: 'stage_scheduled', outcome: 'scheduled', at } });
  expect(r.json.connection.scheduled).toMatchObject({ stage: 'canary', canary_percent: 20, actor: 'demo-admin' });
  expect(r.json.connection.effective.stage).toBe('cutover');
  const deadline = Date.now() + 10_000;
  let view = r.json.connection;
  while (Date.now() < deadline && view.effective.stage !== 'canary') {
    await new Promise((res) => setTimeout(res, 100));
    view = (await call('GET', '/v1/connections/demo', VIEWER)).json;
  }
  expect(view).toMatchObject({ effective: { stage: 'canary', canary_percent: 20 }, scheduled: null });
  const applied = (await call('GET', '/v1/connections/demo/history', VIEWER)).json.records.filter((x: { action: string }) => x.action === 'schedule_applied');
  expect(applied).toHaveLength(1);
  expect(applied[0]).toMatchObject({ outcome: 'applied', actor: 'demo-admin', to: { stage: 'canary', canary_percent: 20 } });
});

test('stage:reset drops the override: the file value is effective again', async () => {
  const r = await call('POST', '/v1/connections/demo/stage:reset', OPERATOR, { reason: 'back to GitOps' });
  expect(r.status).toBe(200);
  expect(r.json.connection).toMatchObject({ override: null, effective: { stage: 'canary', canary_percent: 50 } });
  expect(h.app.current?.factsDeps().connections.get('demo')?.config.canary_percent).toBe(50);
  const again = await call('POST', '/v1/connections/demo/stage:reset', OPERATOR, { reason: 'again' });
  expect(again.json.error).toBe('no_change');
});

test('every change and refusal is in the audit file, hash-chained, and the chain verifies', async () => {
  const tail = (await call('GET', '/v1/audit?limit=500', VIEWER)).json;
  const text = fs.readFileSync(auditFile, 'utf8');
  const v = verifyChain(text);
  expect(v).toMatchObject({ ok: true, records: tail.head.seq, head: tail.head });
  const lines = text.trim().split('\n').map((l) => JSON.parse(l));
  expect(lines.map((l) => l.outcome)).toEqual(expect.arrayContaining(['applied', 'refused', 'scheduled']));
  for (const l of lines) {
    expect(l).toEqual(expect.objectContaining({ actor: expect.any(String), role: expect.any(String), connection: 'demo', reason: expect.any(String), time: expect.any(String), policy_revision: expect.any(String), registry_revision: expect.any(String) }));
  }
  expect(text).not.toContain(OPERATOR);
  expect(text).not.toContain(DEMO_ADMIN_TOKEN);
  // The audit events went to the log too.
  expect(h.logs.join('')).toContain('"event":"audit"');
});
