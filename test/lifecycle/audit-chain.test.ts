// The audit chain: sealing and verification catch every kind of edit; the file mirror refuses records
// that do not continue it and moves a broken file aside; a restarted single replica continues its chain.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createDemoSetup, DEMO_ADMIN_TOKEN } from '../../ext-authz/src/config/default';
import { canonicalJson, EMPTY_HEAD, seal, verifyChain } from '../../ext-authz/src/lifecycle/audit-chain';
import type { AuditRecord, UnsealedRecord } from '../../ext-authz/src/lifecycle/audit-chain';
import { AuditFile } from '../../ext-authz/src/lifecycle/audit-file';
import { startHarness } from '../support/app-harness';
import { adminCall, mountAdmin } from '../support/admin-listener';

jest.setTimeout(60_000);

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cbp-audit-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const base = (reason: string): UnsealedRecord => ({
  time: '2026-12-01T12:00:00.000Z', action: 'stage_set', outcome: 'applied', actor: 'ops', role: 'operator', connection: 'demo',
  from: { stage: 'observe', canary_percent: 0, drain_until: null }, to: { stage: 'canary', canary_percent: 10, drain_until: null },
  reason, ticket: null, error: null, at: null, evidence: null, policy_revision: 'p1', registry_revision: 'r1', replica: 'test',
});

function chain(n: number): AuditRecord[] {
  const out: AuditRecord[] = [];
  let head = EMPTY_HEAD;
  for (let i = 0; i < n; i++) {
    const r = seal(base(`step ${i}`), head);
    out.push(r);
    head = { seq: r.seq, hash: r.hash };
  }
  return out;
}

const text = (rs: AuditRecord[]): string => rs.map((r) => `${JSON.stringify(r)}\n`).join('');

test('canonical JSON does not depend on key order', () => {
  expect(canonicalJson({ b: 1, a: { d: [1, { z: 1, y: 2 }], c: null } })).toBe(canonicalJson({ a: { c: null, d: [1, { y: 2, z: 1 }] }, b: 1 }));
});

test('a sealed chain verifies; an edit, a removal, a reordering, a blank line and a forged re-hash without relinking fail', () => {
  const rs = chain(4);
  expect(verifyChain(text(rs))).toEqual({ ok: true, records: 4, head: { seq: 4, hash: rs[3].hash } });
  expect(verifyChain('')).toMatchObject({ ok: true, records: 0 });

  const edited = rs.map((r) => ({ ...r }));
  edited[1].reason = 'something else';
  expect(verifyChain(text(edited))).toMatchObject({ ok: false, line: 2, problem: expect.stringContaining('edited') });

  expect(verifyChain(text([rs[0], rs[2], rs[3]]))).toMatchObject({ ok: false, line: 2, problem: expect.stringContaining('removed') });
  expect(verifyChain(text([rs[0], rs[2], rs[1], rs[3]]))).toMatchObject({ ok: false, line: 2 });
  expect(verifyChain(`${JSON.stringify(rs[0])}\n\n${text(rs.slice(1))}`)).toMatchObject({ ok: false, line: 2, problem: 'not JSON' });

  // Re-hashing an edited record is not enough: the next record still names the old hash.
  const { hash: _h, ...rest } = { ...rs[1], reason: 'rewritten' };
  const forged = seal({ ...(rest as unknown as UnsealedRecord) }, { seq: rs[0].seq, hash: rs[0].hash });
  expect(verifyChain(text([rs[0], forged, rs[2], rs[3]]))).toMatchObject({ ok: false, line: 3, problem: expect.stringContaining('prev') });
});

test('the file mirror appends only what continues it, and moves a broken file aside', () => {
  const f = path.join(dir, 'mirror.jsonl');
  const rs = chain(3);
  const file = new AuditFile(f);
  expect(file.open()).toMatchObject({ ok: true, records: [], head: EMPTY_HEAD });
  file.append(rs.slice(0, 2));
  expect(() => file.append([rs[0]])).toThrow('do not continue');
  file.append([rs[2]]);
  expect(verifyChain(fs.readFileSync(f, 'utf8'))).toMatchObject({ ok: true, records: 3 });

  fs.writeFileSync(f, text([rs[0], rs[2]]));
  const reopened = new AuditFile(f, () => 42);
  const r = reopened.open();
  expect(r).toMatchObject({ ok: false, problem: expect.stringContaining('line 2'), movedTo: `${f}.broken-42` });
  expect(fs.existsSync(`${f}.broken-42`)).toBe(true);
  expect(reopened.head).toEqual(EMPTY_HEAD);
});

test('a restarted single replica continues its chain from the file', async () => {
  const f = path.join(dir, 'restart.jsonl');
  for (const [i, pct] of [[1, 10], [2, 20]] as const) {
    const h = await startHarness({ demo: createDemoSetup(), auditLog: f });
    const admin = await mountAdmin(h.app.adminRoutes);
    try {
      const r = await adminCall(admin.url, 'POST', '/v1/connections/demo/stage', { token: DEMO_ADMIN_TOKEN, body: { stage: 'canary', canary_percent: pct, reason: `run ${i}` } });
      expect(r.json.audit.seq).toBe(i);
    } finally {
      await admin.close();
      await h.close();
    }
  }
  expect(verifyChain(fs.readFileSync(f, 'utf8'))).toMatchObject({ ok: true, records: 2 });
});
