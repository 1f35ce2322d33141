// The migration lifecycle at run time (docs/stages.md): keeps this replica's view of the stage overrides
// fresh (pub/sub push plus polling, so a change reaches every replica within a second), serves the
// effective facts deps, fails closed when the overrides cannot be read, counts traffic and feeds the
// SLO guard from each decision, applies scheduled changes, mirrors the audit chain to its file, and
// raises the sunset alarm. The admin API (server/admin-api.ts) and the cockpit read it.
import { createHash, randomUUID } from 'node:crypto';
import os from 'node:os';
import type { PipelineResult } from '../model/decision';
import type { ConnectionConfig, RegistryConfig } from '../model/registry';
import type { Decider } from '../check/check-core';
import type { FactsDeps } from '../pipeline/facts/deps';
import type { Logger } from '../telemetry/logger';
import type { Principal } from './admin-auth';
import { canonicalJson } from './audit-chain';
import type { AuditRecord } from './audit-chain';
import { AuditFile } from './audit-file';
import type { LifecycleStore, Snapshot } from './lifecycle-store';
import { applyOverrides, effectiveValues, parseOverride } from './overrides';
import type { StageOverride } from './overrides';
import type { CensusSource, PinCensus } from './pin-census';
import { buildReport } from './removal-report';
import type { RemovalReport } from './removal-report';
import { SloGuard } from './slo-guard';
import type { GuardTarget } from './slo-guard';
import { StageControl } from './stage-control';
import type { ChangeResult, ScheduledChange } from './stage-control';
import type { ResetRequest, StageRequest } from './stage-requests';
import { StageGate } from './stage-gate';
import { TrafficCounters, HOUR_MS, MINUTE_MS } from './traffic-stats';
import type { Bucket } from './traffic-stats';
import { connectionView } from './views';
import type { ConnectionView } from './views';

export interface LifecycleOptions {
  /** The registry file's current content (the desired baseline). */
  registry: () => RegistryConfig;
  /** Facts deps prepared from that registry; the lifecycle serves them with overrides applied. */
  baseDeps: () => FactsDeps;
  policyRevision: () => string;
  store: LifecycleStore;
  census: CensusSource;
  logger: Logger;
  /** JSON-lines mirror of the audit chain (absent: store and log only). */
  auditFile?: string | null;
  clock?: () => number;
  /** Names this replica in audit records (default host/pid). */
  replica?: string;
  /** How often the store is polled for changes (default 250 ms). */
  pollMs?: number;
  /** Reads failing for longer than this make every connection's stage unknown (default 1500 ms). */
  staleAfterMs?: number;
  /** How often counted traffic goes to the store (default 1000 ms). */
  flushMs?: number;
  /** Census results are reused for this long (default 10 s; a Redis census is a SCAN). */
  censusMaxAgeMs?: number;
  /** Sunset alarm log interval per connection (default 1 h). */
  sunsetLogEveryMs?: number;
}

export interface Alarm {
  connection: string;
  kind: 'sunset_exceeded' | 'stage_unknown' | 'proxy_decommissioned' | 'auto_rollback';
  since: string | null;
  message: string;
}

const GUARDED_STAGES = new Set(['canary', 'cutover']);
const revisions = new WeakMap<RegistryConfig, string>();

/** A digest of the registry without its secrets (names of keys only), for audit records. */
export function registryRevision(reg: RegistryConfig): string {
  let r = revisions.get(reg);
  if (r === undefined) {
    const keys = {
      hash_key: 'set', cookie_key: 'set', state_keys: Object.keys(reg.keys.state_keys), pin_api_tokens: Object.keys(reg.keys.pin_api_tokens),
      admin_tokens: (reg.keys.admin_tokens ?? []).map((t) => `${t.name}:${t.role}`),
    };
    const connections = reg.connections.map((c) => ({ ...c, webhook: c.webhook ? { ...c.webhook, secrets: c.webhook.secrets.map((s) => s.id) } : undefined }));
    r = createHash('sha256').update(canonicalJson({ ...reg, keys, connections })).digest('hex').slice(0, 16);
    revisions.set(reg, r);
  }
  return r;
}

export class Lifecycle {
  private readonly clock: () => number;
  private readonly replica: string;
  private readonly control: StageControl;
  private readonly counters = new TrafficCounters();
  private readonly guard = new SloGuard();
  private readonly file: AuditFile | null;
  private overrides = new Map<string, StageOverride>();
  private raw = new Map<string, string>();
  private scheduled = new Map<string, string>();
  private corrupt = new Set<string>();
  private revision: string | null = null;
  private lastGoodRead = Number.NEGATIVE_INFINITY;
  /** The last read failed (a slow event loop alone does not make a view untrustworthy; a failed read does). */
  private failing = true;
  private unreadableLogged = false;
  private effective: FactsDeps | null = null;
  private effectiveBase: FactsDeps | null = null;
  private guardRegistry: RegistryConfig | null = null;
  private allNames: ReadonlySet<string> = new Set();
  private allNamesFor: RegistryConfig | null = null;
  private census: { value: PinCensus; at: number } | null = null;
  private readonly sunsetLogged = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private refreshing: Promise<void> = Promise.resolve();
  private lastFlush = 0;
  private kicked = false;
  private closed = false;

  constructor(private readonly opts: LifecycleOptions) {
    this.clock = opts.clock ?? Date.now;
    this.replica = opts.replica ?? `${os.hostname()}/${process.pid}/${randomUUID().slice(0, 8)}`;
    this.file = opts.auditFile ? new AuditFile(opts.auditFile, this.clock) : null;
    this.control = new StageControl({
      store: opts.store,
      registry: opts.registry,
      clock: this.clock,
      replica: this.replica,
      revisions: () => ({ policy: opts.policyRevision(), registry: registryRevision(opts.registry()) }),
      pinCounts: async (name) => {
        const c = await this.pinCensus();
        const conn = this.fileConnection(name);
        const count = (role: 'legacy' | 'new'): number => c.pins.get(`${name}|${conn?.backends.find((b) => b.role === role)?.id}`)?.count ?? 0;
        return { legacy: count('legacy'), new: count('new') };
      },
      removable: async (name) => (await this.report(name)).removable,
      committed: (record) => this.committed(record),
      logger: opts.logger,
    });
  }

  get storeKind(): 'memory' | 'redis' {
    return this.opts.store.kind;
  }

  /** Opens the audit file, reads the overrides once, and starts the poll loop. */
  async start(): Promise<void> {
    if (!this.file) this.opts.logger.warn({ event: 'audit_file_off', store: this.opts.store.kind }, `no audit file (serve --audit-log): the stage audit trail is kept in the ${this.opts.store.kind} store and the log only`);
    if (this.file) {
      const r = this.file.open();
      if (!r.ok) this.opts.logger.error({ event: 'audit_file_broken', problem: r.problem, moved_to: r.movedTo }, 'the audit file does not verify; it was moved aside and a new one begun');
      else if (r.records.length > 0) await this.opts.store.seedAudit(r.records).catch(() => false);
    }
    await this.refresh(true);
    this.opts.store.subscribe(() => this.kick());
    this.schedule(this.opts.pollMs ?? 250);
  }

  private schedule(ms: number): void {
    if (this.closed) return;
    this.timer = setTimeout(() => {
      this.running = this.tick().finally(() => {
        this.running = null;
        this.schedule(this.kicked ? 0 : (this.opts.pollMs ?? 250));
        this.kicked = false;
      });
    }, ms);
    this.timer.unref();
  }

  /** Another replica announced a change: poll now rather than at the next tick. */
  private kick(): void {
    if (this.closed) return;
    if (this.running) {
      this.kicked = true;
      return;
    }
    if (this.timer) clearTimeout(this.timer);
    this.schedule(0);
  }

  private async tick(): Promise<void> {
    const now = this.clock();
    await this.refresh(false);
    if (now - this.lastFlush >= (this.opts.flushMs ?? 1000)) {
      this.lastFlush = now;
      await this.flush(now);
      await this.checkGuards(now);
    }
    if (this.scheduled.size > 0 && this.clock() - this.lastGoodRead < (this.opts.staleAfterMs ?? 1500)) {
      await this.control.applyDue({ revision: this.revision ?? '', overrides: this.raw, scheduled: this.scheduled }).catch(() => undefined);
    }
    this.sunsetAlarms(now);
  }

  /**
   * Reads the overrides when the store's revision moved (or `force`); marks the view fresh. Serialised:
   * snapshots are installed in the order they were read, so an older one never replaces a newer one.
   */
  private refresh(force: boolean): Promise<void> {
    const next = this.refreshing.then(() => this.doRefresh(force));
    this.refreshing = next;
    return next;
  }

  private async doRefresh(force: boolean): Promise<void> {
    try {
      const rev = await this.opts.store.revision();
      if (force || rev !== this.revision) {
        const snap = await this.opts.store.snapshot();
        this.install(snap);
        await this.syncAuditFile();
      }
      this.lastGoodRead = this.clock();
      this.failing = false;
      if (this.unreadableLogged) this.opts.logger.info({ event: 'stage_overrides_readable' }, 'stage overrides readable again');
      this.unreadableLogged = false;
    } catch {
      this.failing = true;
      if (!this.unreadableLogged) {
        this.opts.logger.error({ event: 'stage_overrides_unreadable', stale_after_ms: this.opts.staleAfterMs ?? 1500 }, 'stage overrides cannot be read; connections fail closed (stage_unknown) once the last view is stale');
        this.unreadableLogged = true;
      }
    }
  }

  private install(snap: Snapshot): void {
    const next = new Map<string, StageOverride>();
    const corrupt = new Set<string>();
    for (const [name, raw] of snap.overrides) {
      const o = parseOverride(raw);
      if (o) next.set(name, o);
      else corrupt.add(name);
    }
    for (const name of new Set([...this.raw.keys(), ...snap.overrides.keys()])) {
      if (this.raw.get(name) === snap.overrides.get(name)) continue;
      this.guard.reset(name);
      const o = next.get(name);
      this.opts.logger.info({ event: 'stage_override_changed', connection: name, stage: o?.stage ?? null, canary_percent: o?.canary_percent ?? null, set_by: o?.set_by ?? null, revision: snap.revision }, o ? 'stage override in effect' : 'stage override dropped');
    }
    if (corrupt.size > 0 && [...corrupt].some((n) => !this.corrupt.has(n))) {
      this.opts.logger.error({ event: 'stage_override_unreadable', connections: [...corrupt] }, 'a stored stage override is unreadable; its connection fails closed (stage_unknown) until it is reset');
    }
    this.overrides = next;
    this.raw = snap.overrides;
    this.scheduled = snap.scheduled;
    this.corrupt = corrupt;
    this.revision = snap.revision;
    this.effective = null;
    this.configureGuards();
  }

  /** Installs the guards for the effective stages (again when the registry file changed). */
  private configureGuards(): void {
    const reg = this.opts.registry();
    this.guard.configure(this.guardTargets(reg));
    this.guardRegistry = reg;
  }

  // -- the request path -------------------------------------------------------------------------

  /** The facts deps with the overrides applied; rebuilt once per change, shared by every request. */
  deps(): FactsDeps {
    const base = this.opts.baseDeps();
    if (this.effective === null || this.effectiveBase !== base) {
      this.effective = applyOverrides(base, this.overrides);
      this.effectiveBase = base;
    }
    return this.effective;
  }

  /**
   * Connections whose stage this replica cannot vouch for now, or null when it can for all: every one
   * once reads have been failing for longer than staleAfterMs (or nothing was read for ten times that,
   * whatever the reason); the ones whose stored override is unreadable.
   */
  unknown(): ReadonlySet<string> | null {
    const stale = this.opts.staleAfterMs ?? 1500;
    const age = this.clock() - this.lastGoodRead;
    if ((this.failing && age > stale) || age > stale * 10) {
      const reg = this.opts.registry();
      if (this.allNamesFor !== reg) {
        this.allNames = new Set(reg.connections.map((c) => c.name));
        this.allNamesFor = reg;
      }
      return this.allNames;
    }
    return this.corrupt.size > 0 ? this.corrupt : null;
  }

  /** The decider the check core uses: the pipeline behind the stage gate. */
  gate(inner: Decider): Decider {
    return new StageGate({ inner, unknown: () => this.unknown(), deps: () => this.deps() });
  }

  /** The check core's decision hook (hot path): counters and the guard's ring. */
  observe(result: PipelineResult): void {
    const now = this.clock();
    this.counters.observe(result, now);
    this.guard.observe(result, now);
  }

  // -- timers -----------------------------------------------------------------------------------

  private async flush(now: number): Promise<void> {
    const delta = this.counters.drain(now);
    if (delta.connections.length === 0 && this.opts.store.kind === 'memory') return;
    try {
      await this.opts.store.flushTraffic(delta);
    } catch {
      this.counters.restore(delta);
    }
  }

  private guardTargets(reg: RegistryConfig): GuardTarget[] {
    const out: GuardTarget[] = [];
    for (const c of reg.connections) {
      const stage = effectiveValues(c, this.overrides.get(c.name)).stage;
      const neu = c.backends.find((b) => b.role === 'new');
      if (c.guard && neu && GUARDED_STAGES.has(stage)) out.push({ connection: c.name, config: c.guard, newBackend: neu.id });
    }
    return out;
  }

  private async checkGuards(now: number): Promise<void> {
    if (this.guardRegistry !== this.opts.registry()) this.configureGuards();
    for (const b of this.guard.breaches(now)) {
      try {
        await this.control.autoRollback(b.connection, b.evidence);
      } catch (e) {
        this.opts.logger.error({ event: 'slo_guard_rollback_failed', connection: b.connection, code: (e as { code?: string }).code ?? 'error' }, 'the SLO guard could not roll back');
      }
      this.guard.reset(b.connection);
    }
  }

  private sunsetAlarms(now: number): void {
    const every = this.opts.sunsetLogEveryMs ?? HOUR_MS;
    for (const s of this.sunsetExceeded(now)) {
      const last = this.sunsetLogged.get(s.connection) ?? Number.NEGATIVE_INFINITY;
      if (now - last < every) continue;
      this.sunsetLogged.set(s.connection, now);
      this.opts.logger.warn({ event: 'sunset_exceeded', connection: s.connection, sunset_at: s.sunset_at, exceeded_s: s.seconds, stage: s.stage }, 'the connection is past its sunset: remove the proxy (callback-proxy audit report)');
    }
  }

  /** `callback_proxy_sunset_exceeded_seconds{connection}`: seconds past sunset_at, per connection past it. */
  sunsetExceeded(now: number = this.clock()): { connection: string; seconds: number; sunset_at: string; stage: string }[] {
    const out: { connection: string; seconds: number; sunset_at: string; stage: string }[] = [];
    for (const c of this.opts.registry().connections) {
      if (c.sunset_at === undefined || now <= c.sunset_at) continue;
      out.push({ connection: c.name, seconds: Math.floor((now - c.sunset_at) / 1000), sunset_at: new Date(c.sunset_at).toISOString(), stage: effectiveValues(c, this.overrides.get(c.name)).stage });
    }
    return out;
  }

  private async committed(record: AuditRecord): Promise<void> {
    this.opts.logger.info({ event: 'audit', ...record }, `audit: ${record.action} ${record.outcome}`);
    await this.refresh(true);
  }

  private async syncAuditFile(): Promise<void> {
    const f = this.file;
    if (!f) return;
    try {
      const head = await this.opts.store.auditHead();
      if (head.seq === f.head.seq && head.hash === f.head.hash) return;
      let continues = head.seq > f.head.seq;
      if (continues && f.head.seq > 0) continues = (await this.opts.store.auditRange(f.head.seq, 1))[0]?.hash === f.head.hash;
      if (!continues) {
        const movedTo = f.moveAside('diverged');
        this.opts.logger.error({ event: 'audit_file_diverged', moved_to: movedTo }, 'the audit file is not a prefix of the shared chain; it was moved aside and the chain is mirrored anew');
      }
      while (f.head.seq < head.seq) {
        const batch = await this.opts.store.auditRange(f.head.seq + 1, 500);
        if (batch.length === 0) break;
        f.append(batch);
      }
    } catch (e) {
      this.opts.logger.error({ event: 'audit_file_write_failed', error_name: e instanceof Error ? e.name : typeof e }, 'the audit file could not be updated; the shared store keeps the chain');
    }
  }

  // -- the admin API ----------------------------------------------------------------------------

  private fileConnection(name: string): ConnectionConfig | undefined {
    return this.opts.registry().connections.find((c) => c.name === name);
  }

  async pinCensus(): Promise<PinCensus> {
    const now = this.clock();
    if (this.census && now - this.census.at < (this.opts.censusMaxAgeMs ?? 10_000)) return this.census.value;
    const value = await this.opts.census();
    this.census = { value, at: now };
    return value;
  }

  change(p: Principal, name: string, req: StageRequest): Promise<ChangeResult> {
    return this.control.change(p, name, req);
  }

  reset(p: Principal, name: string, req: ResetRequest): Promise<ChangeResult> {
    return this.control.reset(p, name, req);
  }

  async connections(): Promise<ConnectionView[]> {
    return Promise.all(this.opts.registry().connections.map((c) => this.view(c)));
  }

  async connection(name: string): Promise<ConnectionView | null> {
    const c = this.fileConnection(name);
    return c ? this.view(c) : null;
  }

  private async view(c: ConnectionConfig): Promise<ConnectionView> {
    const now = this.clock();
    let minutes: Bucket[] | null = null;
    let census: PinCensus | null = null;
    try {
      minutes = await this.opts.store.readBuckets(c.name, 'minute', now - HOUR_MS + MINUTE_MS, now);
    } catch {
      minutes = null;
    }
    try {
      census = await this.pinCensus();
    } catch {
      census = null;
    }
    const rawSchedule = this.scheduled.get(c.name);
    let scheduled: ScheduledChange | null = null;
    try {
      scheduled = rawSchedule ? (JSON.parse(rawSchedule) as ScheduledChange) : null;
    } catch {
      scheduled = null;
    }
    const unknown = this.unknown();
    return connectionView({
      config: c,
      override: this.overrides.get(c.name) ?? null,
      stageKnown: unknown === null || !unknown.has(c.name),
      scheduled,
      minutes,
      census,
      guard: this.guard.window(c.name, now),
      freezeWindows: this.opts.registry().lifecycle?.freeze_windows ?? [],
      now,
    });
  }

  /** Audit records of one connection, oldest first (at most the last `limit`). */
  async history(name: string, limit = 500): Promise<AuditRecord[]> {
    const head = await this.opts.store.auditHead();
    const out: AuditRecord[] = [];
    for (let seq = 1; seq <= head.seq; seq += 500) {
      for (const r of await this.opts.store.auditRange(seq, 500)) if (r.connection === name) out.push(r);
    }
    return out.slice(-limit);
  }

  /** The last `limit` audit records of every connection, oldest first, and the chain head. */
  async auditTail(limit = 50): Promise<{ head: { seq: number; hash: string }; records: AuditRecord[] }> {
    const head = await this.opts.store.auditHead();
    const records = await this.opts.store.auditRange(Math.max(1, head.seq - limit + 1), limit);
    return { head, records };
  }

  /** GET /v1/alarms: what needs a person now (the cockpit's banner). */
  async alarms(): Promise<Alarm[]> {
    const now = this.clock();
    const out: Alarm[] = [];
    for (const s of this.sunsetExceeded(now)) {
      out.push({ connection: s.connection, kind: 'sunset_exceeded', since: s.sunset_at, message: `past its sunset (${s.sunset_at}) by ${s.seconds} s: legacy routes are closed; remove the proxy` });
    }
    const unknown = this.unknown();
    for (const name of unknown ?? []) out.push({ connection: name, kind: 'stage_unknown', since: null, message: 'this replica cannot read the stage overrides: callbacks are denied stage_unknown' });
    for (const c of this.opts.registry().connections) {
      const o = this.overrides.get(c.name);
      if (effectiveValues(c, o).stage !== 'decommissioned') continue;
      const last = (await this.opts.store.readSeen(c.name).catch(() => ({}) as Record<string, number>)).any;
      if (last !== undefined && last > (o?.set_at ?? 0)) out.push({ connection: c.name, kind: 'proxy_decommissioned', since: new Date(last).toISOString(), message: 'decommissioned, yet requests still reach the proxy' });
    }
    const tail = await this.auditTail(200).catch(() => null);
    for (const r of tail?.records ?? []) {
      if (r.action === 'auto_rollback' && r.outcome === 'applied' && now - Date.parse(r.time) < HOUR_MS) {
        out.push({ connection: r.connection, kind: 'auto_rollback', since: r.time, message: r.reason });
      }
    }
    return out;
  }

  /** GET /v1/report: the removal report, for one connection or all. */
  async report(connection?: string): Promise<RemovalReport> {
    const now = this.clock();
    // Traffic counted here but not flushed yet counts too.
    await this.flush(now);
    const reg = this.opts.registry();
    const registry = connection === undefined ? reg : { ...reg, connections: reg.connections.filter((c) => c.name === connection) };
    const traffic = new Map<string, { hours: Bucket[]; seen: Record<string, number> } | null>();
    for (const c of registry.connections) {
      try {
        const hours = await this.opts.store.readBuckets(c.name, 'hour', now - 7 * 24 * HOUR_MS, now);
        traffic.set(c.name, { hours: hours.filter((h) => Object.keys(h.counts).length > 0), seen: await this.opts.store.readSeen(c.name) });
      } catch {
        traffic.set(c.name, null);
      }
    }
    let census: PinCensus | null = null;
    try {
      census = await this.pinCensus();
    } catch {
      census = null;
    }
    let since: number | null = null;
    try {
      since = await this.opts.store.trackingSince();
    } catch {
      since = null;
    }
    return buildReport({ now, registry, overrides: this.overrides, unknown: this.unknown(), census, traffic, trackingSince: since });
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running?.catch(() => undefined);
    await this.flush(this.clock()).catch(() => undefined);
    await this.opts.store.close().catch(() => undefined);
  }
}
