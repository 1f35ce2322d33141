// The commit phase: one-time markers are written last, all or none, only for a decision that forwards
// the request; a marker already taken turns the decision into a deny with its replay reason.
import { commitOneTime } from '../../ext-authz/src/pipeline/commit';
import type { OneTimeMarker } from '../../ext-authz/src/pipeline/facts/context';
import { denyDecision } from '../../ext-authz/src/policy/decision';
import type { Decision } from '../../ext-authz/src/model/decision';
import { MemoryReplayStore } from '../../ext-authz/src/store/memory-store';
import { createRedisStores } from '../../ext-authz/src/store/redis-store';
import { freePort } from '../../demo/ports';

const allow: Decision = { action: 'allow', backend: 'legacy', reasons: ['pinned_legacy'], http_status: 200, headers: {}, response_headers: {}, pin: null, dynamic_metadata: { stage: 'canary' } };
const mk = (namespace: OneTimeMarker['namespace'], hash: string, commit = true): OneTimeMarker => ({ namespace, hash, ttlMs: 60_000, commit, issuedAtMs: null });

describe('commitOneTime', () => {
  it('a deny writes nothing', async () => {
    const s = new MemoryReplayStore();
    const d = denyDecision(['issuer_mismatch']);
    expect(await commitOneTime(d, [mk('state', 's')], s)).toEqual({ decision: d, problem: null });
    expect(await s.peek([mk('state', 's')])).toEqual([false]);
  });

  it('a forwarded request writes its committable markers (a checked-only code is not written)', async () => {
    const s = new MemoryReplayStore();
    expect((await commitOneTime(allow, [mk('state', 's'), mk('code', 'c'), mk('code', 'peeked', false)], s)).decision).toBe(allow);
    expect(await s.peek([mk('state', 's'), mk('code', 'c'), mk('code', 'peeked')])).toEqual([true, true, false]);
  });

  it.each([
    ['state', 'state_replayed'],
    ['relay', 'state_replayed'],
    ['code', 'code_replayed'],
    ['jti', 'jti_replayed'],
    ['webhook', 'webhook_replay'],
  ] as const)('a taken %s marker → deny %s, and none of the request\'s markers is written', async (ns, reason) => {
    const s = new MemoryReplayStore();
    await s.commit([{ namespace: ns, hash: 'taken', ttlMs: 60_000 }]);
    const out = await commitOneTime(allow, [mk(ns === 'code' ? 'state' : 'code', 'fresh'), mk(ns, 'taken')], s);
    expect(out.decision).toMatchObject({ action: 'deny', backend: null, reasons: [reason], dynamic_metadata: { stage: 'canary' } });
    expect(out.problem).toMatch(/concurrent/);
    expect(await s.peek([mk(ns === 'code' ? 'state' : 'code', 'fresh')])).toEqual([false]);
  });

  it('a store that cannot be reached → store_unavailable (fail closed)', async () => {
    const dead = createRedisStores({ url: `redis://127.0.0.1:${await freePort()}`, commandTimeoutMs: 200 });
    try {
      const out = await commitOneTime(allow, [mk('state', 's')], dead.replayStore);
      expect(out.decision).toMatchObject({ action: 'deny', reasons: ['store_unavailable'] });
    } finally {
      await dead.pinStore.close();
    }
  });
});
