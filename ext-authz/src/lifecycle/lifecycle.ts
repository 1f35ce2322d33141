// The migration lifecycle at run time (docs/stages.md): keeps this replica's view of the stage overrides
// fresh (pub/sub push plus polling, so a change reaches every replica within a second), serves the
// effective facts deps, fails closed when the overrides cannot be read, counts traffic and feeds the
// SLO guard from each decision, applies scheduled changes, mirrors the audit chain to its file, and
// raises the sunset alarm. The admin API (server/admin-api.ts) and the cockpit read it.
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import type { PipelineResult } from '../model/decision';
import type { ConnectionConfig, RegistryConfig } from '../model/registry';
import type { Decider } from '../check/check-core';
import type { FactsDeps } from '../pipeline/facts/deps';
import type { Logger } from '../telemetry/logger';
import type { Principal } from './admin-auth';
import type { AuditRecord } from './audit-chain';
import { alarms, sunsetExceeded } from './alarms';
import type { Alarm, SunsetExceeded } from './alarms';
import { registryRevision } from './registry-revision';
import { AuditFile } from './audit-file';
import type { LifecycleStore, Snapshot } from './lifecycle-store';
import { applyOverrides } from './overrides';
import type { CensusSource, PinCensus } from './pin-census';
import { buildReport } from './removal-report';
import type { RemovalReport } from './removal-report';
import { guardTargets, SloGuard } from './slo-guard';
import { OverrideView } from './override-view';
import { PollLoop } from './poll-loop';
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

export class Lifecycle {
  private readonly clock: () => number;
  private readonly replica: string;
  private readonly control: StageControl;
  private readonly counters = new TrafficCounters();
  private readonly guard = new SloGuard();
  private readonly file: AuditFile | null;
  private readonly view: OverrideView;
  private unreadableLogged = false;
  private effective: FactsDeps | null = null;
  private effectiveBase: FactsDeps | null = null;
  private guardRegistry: RegistryConfig | null = null;
  private census: { value: PinCensus; at: number } | null = null;
  private readonly sunsetLogged = new Map<string, number>();
  private readonly loop: PollLoop;
  private refreshing: Promise<void> = Promise.resolve();
  private lastFlush = 0;

  constructor(private readonly opts: LifecycleOptions) {
    this.clock = opts.clock ?? Date.now;
    this.view = new OverrideView(opts.staleAfterMs ?? 1500, this.clock);
    this.loop = new PollLoop(opts.pollMs ?? 250, () => this.tick());
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
    this.opts.store.subscribe(() => this.loop.kick());
    this.loop.start();
  }

  private async tick(): Promise<void> {
    const now = this.clock();
    await this.refresh(false);
    if (now - this.lastFlush >= (this.opts.flushMs ?? 1000)) {
      this.lastFlush = now;
      await this.flush(now);
      await this.checkGuards(now);
    }
    if (this.view.scheduled.size > 0 && this.view.fresh) {
      await this.control.applyDue({ revision: this.view.revision ?? '', overrides: new Map(this.view.raw), scheduled: new Map(this.view.scheduled) }).catch(() => undefined);
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
      if (force || rev !== this.view.revision) {
        const snap = await this.opts.store.snapshot();
        this.install(snap);
        await this.syncAuditFile();
      }
      this.view.markRead();
      if (this.unreadableLogged) this.opts.logger.info({ event: 'stage_overrides_readable' }, 'stage overrides readable again');
      this.unreadableLogged = false;
    } catch {
      this.view.markFailed();
      if (!this.unreadableLogged) {
        this.opts.logger.error({ event: 'stage_overrides_unreadable', stale_after_ms: this.opts.staleAfterMs ?? 1500 }, 'stage overrides cannot be read; connections fail closed (stage_unknown) once the last view is stale');
        this.unreadableLogged = true;
      }
    }
  }

  private install(snap: Snapshot): void {
    const { changed, newlyCorrupt } = this.view.install(snap);
    for (const name of changed) {
      this.guard.reset(name);
      const o = this.view.overrides.get(name);
      this.opts.logger.info({ event: 'stage_override_changed', connection: name, stage: o?.stage ?? null, canary_percent: o?.canary_percent ?? null, set_by: o?.set_by ?? null, revision: snap.revision }, o ? 'stage override in effect' : 'stage override dropped');
    }
    if (newlyCorrupt.length > 0) {
      this.opts.logger.error({ event: 'stage_override_unreadable', connections: [...this.view.corrupt] }, 'a stored stage override is unreadable; its connection fails closed (stage_unknown) until it is reset');
    }
    this.effective = null;
    this.configureGuards();
  }

  /** Installs the guards for the effective stages (again when the registry file changed). */
  private configureGuards(): void {
    const reg = this.opts.registry();
    this.guard.configure(guardTargets(reg, this.view.overrides));
    this.guardRegistry = reg;
  }

  // -- the request path -------------------------------------------------------------------------

  /** The facts deps with the overrides applied; rebuilt once per change, shared by every request. */
  deps(): FactsDeps {
    const base = this.opts.baseDeps();
    if (this.effective === null || this.effectiveBase !== base) {
      this.effective = applyOverrides(base, this.view.overrides);
      this.effectiveBase = base;
    }
    return this.effective;
  }

  /** Connections whose stage this replica cannot vouch for now, or null when it can for all. */
  unknown(): ReadonlySet<string> | null {
    return this.view.unknown(this.opts.registry());
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
  sunsetExceeded(now: number = this.clock()): SunsetExceeded[] {
    return sunsetExceeded(this.opts.registry(), this.view.overrides, now);
  }

  private async committed(record: AuditRecord): Promise<void> {
    this.opts.logger.info({ event: 'audit', ...record }, `audit: ${record.action} ${record.outcome}`);
    await this.refresh(true);
  }

  private async syncAuditFile(): Promise<void> {
    if (!this.file) return;
    try {
      const r = await this.file.sync(this.opts.store);
      if (r.movedTo) this.opts.logger.error({ event: 'audit_file_diverged', moved_to: r.movedTo }, 'the audit file is not a prefix of the shared chain; it was moved aside and the chain is mirrored anew');
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
    return Promise.all(this.opts.registry().connections.map((c) => this.viewOf(c)));
  }

  async connection(name: string): Promise<ConnectionView | null> {
    const c = this.fileConnection(name);
    return c ? this.viewOf(c) : null;
  }

  private async viewOf(c: ConnectionConfig): Promise<ConnectionView> {
    const now = this.clock();
    const minutes = await this.opts.store.readBuckets(c.name, 'minute', now - HOUR_MS + MINUTE_MS, now).catch(() => null);
    const census = await this.pinCensus().catch(() => null);
    const rawSchedule = this.view.scheduled.get(c.name);
    let scheduled: ScheduledChange | null = null;
    try {
      scheduled = rawSchedule ? (JSON.parse(rawSchedule) as ScheduledChange) : null;
    } catch {
      scheduled = null;
    }
    const unknown = this.unknown();
    return connectionView({
      config: c,
      override: this.view.overrides.get(c.name) ?? null,
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
    const tail = await this.auditTail(200).catch(() => null);
    return alarms({
      registry: this.opts.registry(),
      overrides: this.view.overrides,
      unknown: this.unknown(),
      lastRequest: async (name) => (await this.opts.store.readSeen(name).catch(() => ({}) as Record<string, number>)).any,
      recent: tail?.records ?? [],
      now: this.clock(),
    });
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
    const census = await this.pinCensus().catch(() => null);
    const since = await this.opts.store.trackingSince().catch(() => null);
    return buildReport({ now, registry, overrides: this.view.overrides, unknown: this.unknown(), census, traffic, trackingSince: since });
  }

  async close(): Promise<void> {
    await this.loop.close();
    await this.flush(this.clock()).catch(() => undefined);
    await this.opts.store.close().catch(() => undefined);
  }
}
