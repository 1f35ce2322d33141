// The Redis stores' epoch, sequence, budgets and settings against a real redis-server (docs/operations.md,
// "Redis"): a store that lost its data is noticed by the epoch check and, atomically, by the very next
// commit; budgets refuse instead of evicting; a Redis out of memory writes nothing; risky settings are
// reported. Skips loudly without redis-server, except in CI.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { createRedisStores } from '../../ext-authz/src/store/redis-store';
import type { RedisStoreOptions } from '../../ext-authz/src/store/redis-store';
import type { EpochEvent, SettingsWarningCode, StoreObserver, StoreState } from '../../ext-authz/src/store/observer';
import type { Marker, PinRecord } from '../../ext-authz/src/store/types';
import { StoreError } from '../../ext-authz/src/store/types';
import { redisAvailability, startRedis, type RunningRedis } from '../support/redis-server';

jest.setTimeout(60_000);

const maybe = redisAvailability('redis epoch tests') ? describe : describe.skip;

const m = (namespace: Marker['namespace'], hash: string, ttlMs = 60_000): Marker => ({ namespace, hash, ttlMs });
const pin = (hash: string): PinRecord => ({ flow_key_hash: hash, backend: 'new', issuer: 'https://i', connection: 'demo', response_mode: 'query', created_at: 1, expires_at: 2 });

/** Records what the stores report. */
function recorder() {
  const events: { states: StoreState[]; epochs: EpochEvent[]; full: (string | null)[]; warnings: SettingsWarningCode[] } = { states: [], epochs: [], full: [], warnings: [] };
  const observer: StoreObserver = {
    stateChanged: (s) => events.states.push(s),
    epochStarted: (_at, e) => events.epochs.push(e),
    budgetFull: (c) => events.full.push(c),
    settingsWarning: (c) => events.warnings.push(c),
  };
  return { events, observer };
}

async function until(cond: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

maybe('Redis epoch, sequence and budgets', () => {
  let server: RunningRedis;
  let admin: Redis;
  const opened: { close(): Promise<void> }[] = [];
  let n = 0;

  beforeAll(async () => {
    server = await startRedis();
    admin = new Redis(server.url);
  });
  afterAll(async () => {
    for (const s of opened) await s.close();
    admin?.disconnect();
    server?.stop();
  });

  /** Stores under a fresh prefix (a fresh, empty "Redis" as far as they can tell). */
  async function open(extra: Partial<RedisStoreOptions> = {}, prefix = `e${++n}:`) {
    const rec = recorder();
    const s = createRedisStores({ url: server.url, prefix, commandTimeoutMs: 5000, checkIntervalMs: 60_000, checkSettings: false, observer: rec.observer, ...extra });
    opened.push(s);
    expect(await s.link.waitUsable(10_000)).toBe(true);
    return { s, ...rec, prefix };
  }

  it('the first replica starts an epoch; the next joins it; both refuse nothing issued after it', async () => {
    const a = await open();
    const b = await open({}, a.prefix);
    expect(a.events.epochs).toEqual(['started']);
    expect(b.events.epochs).toEqual(['joined']);
    expect(a.events.states).toEqual(['up']);
    expect(b.s.replayStore.epochStartMs()).toBe(a.s.replayStore.epochStartMs());
    expect(a.s.replayStore.epochStartMs()).toBeGreaterThan(Date.now() - 60_000);
  });

  it('a flushed Redis: the next commit is refused atomically (store_epoch_changed) and the replica moves to a new epoch', async () => {
    const a = await open();
    expect(await a.s.replayStore.commit([m('state', 'used')])).toEqual({ ok: true });
    const before = a.s.replayStore.epochStartMs();
    await new Promise((r) => setTimeout(r, 5)); // the new epoch starts strictly later
    await admin.flushall();
    // No periodic check ran (60 s period): the commit itself sees the epoch gone.
    await expect(a.s.replayStore.commit([m('state', 'used')])).rejects.toMatchObject({ code: 'store_epoch_changed' });
    await until(() => a.events.epochs.includes('empty'));
    expect(a.s.replayStore.epochStartMs()).toBeGreaterThan(before);
    // The peek reads the epoch with the markers: it too refuses under a stale epoch.
    await admin.flushall();
    await expect(a.s.replayStore.peek([m('state', 'used')])).rejects.toBeInstanceOf(StoreError);
    await until(() => a.events.epochs.filter((e) => e === 'empty').length === 2);
  });

  it('a sequence that went backwards (an older snapshot) starts a new epoch; a replica that saw less simply adopts it', async () => {
    const a = await open();
    const b = await open({}, a.prefix);
    for (let i = 0; i < 3; i++) expect(await a.s.replayStore.commit([m('code', `c${i}`)])).toEqual({ ok: true });
    expect(a.s.link.lastSeq).toBe(3);
    await admin.set(`${a.prefix}seq`, '1'); // what a restore from an older RDB file looks like
    await expect(a.s.replayStore.commit([m('code', 'next')])).rejects.toMatchObject({ code: 'store_epoch_changed' });
    await until(() => a.events.epochs.includes('rollback'));
    await b.s.link.check();
    expect(b.events.epochs).toEqual(['joined', 'replaced']);
    expect(b.s.replayStore.epochStartMs()).toBe(a.s.replayStore.epochStartMs());
    expect(await b.s.replayStore.commit([m('code', 'next')])).toEqual({ ok: true });
  });

  it('marker budgets per class: a full class refuses, evicts nothing, and frees room as buckets pass', async () => {
    const clock = { now: Date.now() };
    const a = await open({ budgets: { code: 3, state: 2 }, clock: () => clock.now });
    for (let i = 0; i < 3; i++) expect(await a.s.replayStore.commit([m('code', `k${i}`, 30_000)])).toEqual({ ok: true });
    expect(await a.s.replayStore.commit([m('code', 'k3')])).toEqual({ ok: false, full: 'code' });
    expect(await a.s.replayStore.commit([m('state', 's1'), m('code', 'k4')])).toEqual({ ok: false, full: 'code' });
    expect(await a.s.replayStore.peek([m('state', 's1'), m('code', 'k0'), m('code', 'k1'), m('code', 'k2')])).toEqual([false, true, true, true]);
    expect(await a.s.replayStore.commit([m('state', 's1'), m('relay', 'r1')])).toEqual({ ok: true });
    expect(await a.s.replayStore.commit([m('relay', 'r2')])).toEqual({ ok: false, full: 'state' });
    expect(await a.s.replayStore.commit([m('code', 'k1')])).toEqual({ ok: false, taken: 0 });
    expect(a.events.full).toEqual(['code', 'code', 'state']);
    // Counted until the end of their 60 s bucket past expiry, never less.
    clock.now += 30_000;
    expect(await a.s.replayStore.commit([m('code', 'k5')])).toEqual({ ok: false, full: 'code' });
    clock.now += 120_000;
    expect(await a.s.replayStore.commit([m('code', 'k5')])).toEqual({ ok: true });
    a.s.replayStore.setBudgets({ state: 2, code: 2, jti: 1, webhook: 1, pin: 1 });
    expect(await a.s.replayStore.commit([m('code', 'k6')])).toEqual({ ok: true });
    expect(await a.s.replayStore.commit([m('code', 'k7')])).toEqual({ ok: false, full: 'code' });
  });

  it('the pin budget refuses new pins and keeps the held ones', async () => {
    const a = await open({ budgets: { pin: 2 } });
    expect((await a.s.pinStore.put(pin('p1'), 60_000)).status).toBe('created');
    expect((await a.s.pinStore.put(pin('p2'), 60_000)).status).toBe('created');
    expect(await a.s.pinStore.put(pin('p3'), 60_000)).toEqual({ status: 'full' });
    expect((await a.s.pinStore.put(pin('p1'), 60_000)).status).toBe('unchanged');
    expect(await a.s.pinStore.get('p2')).toEqual(pin('p2'));
    expect(await a.s.pinStore.get('p3')).toBeNull();
    expect(a.events.full).toEqual(['pin']);
  });

  it('a Redis out of memory (noeviction) refuses the commit whole: reported full, nothing written', async () => {
    const a = await open();
    await admin.config('SET', 'maxmemory', '1');
    try {
      expect(await a.s.replayStore.commit([m('state', 'oom-s'), m('code', 'oom-c')])).toEqual({ ok: false, full: null });
      expect(await a.s.pinStore.put(pin('oom-p'), 60_000)).toEqual({ status: 'full' });
    } finally {
      await admin.config('SET', 'maxmemory', '0');
    }
    expect(await a.s.replayStore.peek([m('state', 'oom-s'), m('code', 'oom-c')])).toEqual([false, false]);
    expect(await a.s.replayStore.commit([m('state', 'oom-s'), m('code', 'oom-c')])).toEqual({ ok: true });
    expect(a.events.full).toEqual([null, null]);
  });

  it('a paused Redis: down once (not per request), every operation refused at once, up again after', async () => {
    const own = await startRedis();
    const rec = recorder();
    const s = createRedisStores({ url: own.url, commandTimeoutMs: 200, checkIntervalMs: 100, checkSettings: false, observer: rec.observer });
    try {
      expect(await s.link.waitUsable(10_000)).toBe(true);
      own.pause();
      await until(() => rec.events.states.includes('down'));
      for (let i = 0; i < 5; i++) await expect(s.replayStore.commit([m('state', `p${i}`)])).rejects.toMatchObject({ code: 'store_unavailable' });
      await expect(s.pinStore.get('x')).rejects.toMatchObject({ code: 'store_unavailable' });
      own.resume();
      await until(() => s.link.usable);
      expect(rec.events.states).toEqual(['up', 'down', 'up']);
      expect(rec.events.epochs).toEqual(['started']); // same data: no loss
      expect(await s.replayStore.commit([m('state', 'after')])).toEqual({ ok: true });
    } finally {
      own.resume();
      await s.close();
      own.stop();
    }
  });

  describe('settings read at start', () => {
    async function warningsFor(r: RunningRedis): Promise<SettingsWarningCode[]> {
      const rec = recorder();
      const s = createRedisStores({ url: r.url, commandTimeoutMs: 5000, checkIntervalMs: 60_000, observer: rec.observer });
      try {
        await s.link.waitUsable(10_000);
        await until(() => rec.events.warnings.length > 0, 5_000).catch(() => undefined);
        return rec.events.warnings.sort();
      } finally {
        await s.close();
      }
    }

    it('no persistence, then an evicting policy, are reported', async () => {
      expect(await warningsFor(server)).toEqual(['redis_no_persistence']);
      await admin.config('SET', 'maxmemory-policy', 'allkeys-lru');
      try {
        expect(await warningsFor(server)).toEqual(['redis_eviction_policy', 'redis_no_persistence']);
      } finally {
        await admin.config('SET', 'maxmemory-policy', 'noeviction');
      }
    });

    it('AOF with noeviction: nothing to report; CONFIG disabled: reported as unreadable', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'cbp-redis-'));
      const aof = await startRedis(5000, { dir, aof: true });
      const noConfig = await startRedis(5000, { args: ['--rename-command', 'CONFIG', ''] });
      try {
        const rec = recorder();
        const s = createRedisStores({ url: aof.url, commandTimeoutMs: 5000, checkIntervalMs: 60_000, observer: rec.observer });
        await s.link.waitUsable(10_000);
        // The settings read is the first thing after up; a commit round trip later it has answered.
        await s.replayStore.commit([m('state', 'x')]);
        await new Promise((r) => setTimeout(r, 200));
        expect(rec.events.warnings).toEqual([]);
        await s.close();
        expect(await warningsFor(noConfig)).toEqual(['redis_config_unreadable']);
      } finally {
        aof.stop();
        noConfig.stop();
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});
