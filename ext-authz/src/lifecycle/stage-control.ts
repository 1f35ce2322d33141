// Stage changes (docs/stages.md, "Stage transitions"): an operator's change, a reset to the file's
// values, a scheduled change coming due, and the SLO guard's rollback. Each reads the shared state
// fresh, checks the rules, and commits the override together with its audit record (compare-and-set:
// a change that raced another is refused as `conflict`, never applied twice). Refusals are audited too.
import { randomUUID } from 'node:crypto';
import type { AdminRole, ConnectionConfig, RegistryConfig } from '../model/registry';
import type { Logger } from '../telemetry/logger';
import { principalByName } from './admin-auth';
import type { Principal } from './admin-auth';
import { seal } from './audit-chain';
import type { AuditAction, AuditRecord, UnsealedRecord } from './audit-chain';
import { LifecycleError } from './errors';
import type { LifecycleStore, Snapshot } from './lifecycle-store';
import { auditStage, effectiveValues, fileValues, parseOverride } from './overrides';
import type { StageOverride } from './overrides';
import type { GuardEvidence } from './slo-guard';
import { describeEffect } from './stage-requests';
import type { Effect, ResetRequest, StageRequest } from './stage-requests';
import { activeFreeze, checkMove, planTransition, roleAtLeast } from './transitions';
import type { StageValues, TransitionRequest } from './transitions';

/** A change put off until `at` (kept in the shared store; any replica applies it once). */
export interface ScheduledChange {
  id: string;
  at: number;
  request: TransitionRequest;
  actor: string;
  role: AdminRole;
  reason: string;
  ticket: string | null;
  created_at: number;
}

export interface ChangeResult {
  record: AuditRecord | null;
  effect: Effect;
  dry_run: boolean;
  scheduled: boolean;
}

export interface StageControlDeps {
  store: LifecycleStore;
  /** The registry file's current content. */
  registry: () => RegistryConfig;
  clock: () => number;
  replica: string;
  revisions: () => { policy: string; registry: string };
  pinCounts: (connection: string) => Promise<{ legacy: number; new: number }>;
  removable: (connection: string) => Promise<boolean>;
  /** After a commit landed: the lifecycle re-reads the store, mirrors the audit file and logs. */
  committed: (record: AuditRecord) => Promise<void>;
  logger: Logger;
}

type Actor = { name: string; role: AdminRole | 'system' };

/** How long before `at` a change counts as "now" rather than scheduled. */
const SCHEDULE_SLACK_MS = 1000;

export class StageControl {
  constructor(private readonly d: StageControlDeps) {}

  private connection(name: string): ConnectionConfig {
    const c = this.d.registry().connections.find((x) => x.name === name);
    if (!c) throw new LifecycleError('not_found', `no connection named ${name}`);
    return c;
  }

  private async snapshot(): Promise<Snapshot> {
    try {
      return await this.d.store.snapshot();
    } catch {
      throw new LifecycleError('unavailable', 'the shared store cannot be read; nothing was changed');
    }
  }

  private current(c: ConnectionConfig, snap: Snapshot): { raw: string; override: StageOverride | undefined; values: StageValues } {
    const raw = snap.overrides.get(c.name) ?? '';
    const override = raw === '' ? undefined : (parseOverride(raw) ?? undefined);
    if (raw !== '' && override === undefined) throw new LifecycleError('conflict', `the stored override of ${c.name} is unreadable; reset it`);
    return { raw, override, values: effectiveValues(c, override) };
  }

  private unsealed(actor: Actor, c: ConnectionConfig, action: AuditAction, fields: Partial<UnsealedRecord>): UnsealedRecord {
    const rev = this.d.revisions();
    return {
      time: new Date(this.d.clock()).toISOString(),
      action,
      outcome: 'applied',
      actor: actor.name,
      role: actor.role,
      connection: c.name,
      from: null,
      to: null,
      reason: '',
      ticket: null,
      error: null,
      at: null,
      evidence: null,
      policy_revision: rev.policy,
      registry_revision: rev.registry,
      replica: this.d.replica,
      ...fields,
    };
  }

  private async commit(op: Parameters<LifecycleStore['commit']>[0]): Promise<AuditRecord> {
    let r;
    try {
      r = await this.d.store.commit(op);
    } catch {
      throw new LifecycleError('unavailable', 'the shared store cannot be written; nothing was changed');
    }
    if (!r.ok) throw new LifecycleError('conflict', 'the stage changed meanwhile; read it again and retry');
    await this.d.committed(r.record);
    return r.record;
  }

  /** Best effort: a refusal that cannot be recorded is still refused (and logged by the caller). */
  private async refuse(actor: Actor, c: ConnectionConfig, action: AuditAction, e: LifecycleError, fields: Partial<UnsealedRecord>): Promise<void> {
    if (e.code === 'unavailable' || e.code === 'not_found') return;
    const base = this.unsealed(actor, c, action, { ...fields, outcome: 'refused', error: e.code });
    try {
      const r = await this.d.store.commit({ record: (head) => seal(base, head) });
      if (r.ok) await this.d.committed(r.record);
    } catch {
      this.d.logger.error({ event: 'audit_write_failed', connection: c.name, code: e.code }, 'a refused stage change could not be recorded');
    }
  }

  /** POST /v1/connections/{name}/stage */
  async change(p: Principal, name: string, req: StageRequest): Promise<ChangeResult> {
    const c = this.connection(name);
    const now = this.d.clock();
    const at = req.at !== undefined && req.at > now + SCHEDULE_SLACK_MS ? req.at : now;
    const tr: TransitionRequest = { to: req.stage, canary_percent: req.canary_percent, drain_until: req.drain_until, ticket: req.ticket };
    let from: StageValues = fileValues(c);
    try {
      if (!roleAtLeast(p.role, 'operator')) throw new LifecycleError('forbidden', 'changing a stage needs the operator role');
      const snap = await this.snapshot();
      const cur = this.current(c, snap);
      from = cur.values;
      const freeze = activeFreeze(this.d.registry().lifecycle?.freeze_windows ?? [], c.name, at);
      if (freeze) throw new LifecycleError('change_frozen', `changes to ${c.name} are frozen until ${new Date(freeze.end).toISOString()}: ${freeze.reason}`);
      const removable = req.stage === 'decommissioned' ? await this.d.removable(c.name) : true;
      const next = planTransition(tr, { connection: c, current: cur.values, at, role: p.role, removable: () => removable, automatic: false });
      const effect = await this.effect(c, cur.values, next, at);
      if (req.dry_run) return { record: null, effect, dry_run: true, scheduled: false };
      const common = { from: auditStage(cur.values), to: auditStage(next), reason: req.reason, ticket: req.ticket ?? null };
      if (at > now) {
        const s: ScheduledChange = { id: randomUUID(), at, request: tr, actor: p.name, role: p.role, reason: req.reason, ticket: req.ticket ?? null, created_at: now };
        const base = this.unsealed(p, c, 'stage_scheduled', { ...common, outcome: 'scheduled', at: new Date(at).toISOString() });
        const record = await this.commit({ schedule: { connection: c.name, expect: snap.scheduled.get(c.name) ?? '', next: JSON.stringify(s) }, record: (h) => seal(base, h) });
        return { record, effect, dry_run: false, scheduled: true };
      }
      const o: StageOverride = { ...next, set_by: p.name, set_at: now, reason: req.reason, ticket: req.ticket ?? null, previous: cur.values };
      const base = this.unsealed(p, c, 'stage_set', common);
      const record = await this.commit({ override: { connection: c.name, expect: cur.raw, next: JSON.stringify(o) }, record: (h) => seal(base, h) });
      return { record, effect, dry_run: false, scheduled: false };
    } catch (e) {
      if (e instanceof LifecycleError && !req.dry_run) {
        await this.refuse(p, c, at > now ? 'stage_scheduled' : 'stage_set', e, { from: auditStage(from), to: { stage: req.stage, canary_percent: req.canary_percent ?? 0, drain_until: req.drain_until ? new Date(req.drain_until).toISOString() : null }, reason: req.reason, ticket: req.ticket ?? null });
      }
      throw e;
    }
  }

  /** POST /v1/connections/{name}/stage:reset — drops the override (and a pending scheduled change). */
  async reset(p: Principal, name: string, req: ResetRequest): Promise<ChangeResult> {
    const c = this.connection(name);
    const now = this.d.clock();
    const target = fileValues(c);
    let from: StageValues = target;
    try {
      if (!roleAtLeast(p.role, 'operator')) throw new LifecycleError('forbidden', 'changing a stage needs the operator role');
      const snap = await this.snapshot();
      const raw = snap.overrides.get(c.name) ?? '';
      const parsed = raw === '' ? undefined : parseOverride(raw);
      // An unreadable override can only be dropped: its values count as unknown, so no rule applies.
      from = parsed ? effectiveValues(c, parsed) : target;
      const scheduled = snap.scheduled.get(c.name) ?? '';
      if (raw === '' && scheduled === '') throw new LifecycleError('no_change', `${c.name} has no override and no scheduled change`);
      const freeze = activeFreeze(this.d.registry().lifecycle?.freeze_windows ?? [], c.name, now);
      if (freeze) throw new LifecycleError('change_frozen', `changes to ${c.name} are frozen until ${new Date(freeze.end).toISOString()}: ${freeze.reason}`);
      if (raw !== '' && parsed) {
        const removable = target.stage === 'decommissioned' ? await this.d.removable(c.name) : true;
        checkMove(target.stage, req, { connection: c, current: from, at: now, role: p.role, removable: () => removable, automatic: false, reset: true });
      }
      const effect = await this.effect(c, from, target, now);
      if (req.dry_run) return { record: null, effect, dry_run: true, scheduled: false };
      const base = this.unsealed(p, c, 'stage_reset', { from: auditStage(from), to: auditStage(target), reason: req.reason, ticket: req.ticket ?? null });
      const record = await this.commit({
        override: raw === '' ? undefined : { connection: c.name, expect: raw, next: '' },
        schedule: scheduled === '' ? undefined : { connection: c.name, expect: scheduled, next: '' },
        record: (h) => seal(base, h),
      });
      return { record, effect, dry_run: false, scheduled: false };
    } catch (e) {
      if (e instanceof LifecycleError && !req.dry_run) await this.refuse(p, c, 'stage_reset', e, { from: auditStage(from), to: auditStage(target), reason: req.reason, ticket: req.ticket ?? null });
      throw e;
    }
  }

  /** The SLO guard tripped: back to the stage before this one, or to `rollback` when that is not legal. */
  async autoRollback(name: string, evidence: GuardEvidence): Promise<AuditRecord | null> {
    const c = this.connection(name);
    const now = this.d.clock();
    const snap = await this.snapshot();
    const cur = this.current(c, snap);
    if (cur.values.stage !== 'canary' && cur.values.stage !== 'cutover') return null;
    const ctx = { connection: c, current: cur.values, at: now, role: null, removable: () => false, automatic: true };
    const prev = cur.override?.previous;
    let next: StageValues | null = null;
    // The stage before this one, when it sends fewer flows to new (a lower canary, shadow); otherwise
    // the rollback stage (new flows to legacy, new-pinned flows drain on new).
    const lower = prev !== undefined && (prev.stage === 'shadow' || (prev.stage === 'canary' && (cur.values.stage === 'cutover' || prev.canary_percent < cur.values.canary_percent)));
    if (lower) {
      try {
        next = planTransition({ to: prev.stage, canary_percent: prev.stage === 'canary' ? prev.canary_percent : undefined }, ctx);
      } catch {
        next = null;
      }
    }
    next ??= planTransition({ to: 'rollback' }, ctx);
    const pct = (x: number): string => `${(x * 100).toFixed(1)} %`;
    const reason = `SLO guard: ${evidence.denied_broken} of ${evidence.callbacks_new} callbacks for the new backend denied for broken-login reasons (${pct(evidence.ratio)} > ${pct(evidence.deny_ratio)}) in ${evidence.window_s} s`;
    const o: StageOverride = { ...next, set_by: 'slo-guard', set_at: now, reason, ticket: null, previous: cur.values };
    const base = this.unsealed({ name: 'slo-guard', role: 'system' }, c, 'auto_rollback', {
      from: auditStage(cur.values), to: auditStage(next), reason, evidence: evidence as unknown as Record<string, unknown>,
    });
    const record = await this.commit({ override: { connection: c.name, expect: cur.raw, next: JSON.stringify(o) }, record: (h) => seal(base, h) });
    this.d.logger.warn({ event: 'slo_guard_rollback', connection: c.name, from: cur.values.stage, to: next.stage, evidence, audit_seq: record.seq }, 'SLO guard rolled back a stage');
    return record;
  }

  /** Applies scheduled changes that came due (each exactly once across replicas: the schedule is a CAS). */
  async applyDue(snap: Snapshot): Promise<void> {
    const now = this.d.clock();
    for (const [name, raw] of snap.scheduled) {
      let s: ScheduledChange;
      try {
        s = JSON.parse(raw) as ScheduledChange;
      } catch {
        continue;
      }
      if (typeof s.at !== 'number' || s.at > now) continue;
      const c = this.d.registry().connections.find((x) => x.name === name);
      if (!c) continue;
      const actor: Actor = { name: s.actor, role: s.role };
      let from: StageValues = fileValues(c);
      try {
        const cur = this.current(c, snap);
        from = cur.values;
        // The scheduling token must still exist with its role when the change comes due.
        const holder = principalByName(this.d.registry().keys.admin_tokens ?? [], s.actor);
        if (!holder) throw new LifecycleError('unauthenticated', `the admin token ${s.actor} that scheduled this change no longer exists`);
        const freeze = activeFreeze(this.d.registry().lifecycle?.freeze_windows ?? [], c.name, now);
        if (freeze) throw new LifecycleError('change_frozen', `changes to ${c.name} are frozen until ${new Date(freeze.end).toISOString()}: ${freeze.reason}`);
        const removable = s.request.to === 'decommissioned' ? await this.d.removable(c.name) : true;
        const next = planTransition({ ...s.request, drain_until: s.request.drain_until ?? undefined }, { connection: c, current: cur.values, at: now, role: holder.role, removable: () => removable, automatic: false });
        const o: StageOverride = { ...next, set_by: s.actor, set_at: now, reason: s.reason, ticket: s.ticket, previous: cur.values };
        const base = this.unsealed(actor, c, 'schedule_applied', { from: auditStage(cur.values), to: auditStage(next), reason: s.reason, ticket: s.ticket, at: new Date(s.at).toISOString() });
        await this.commit({ override: { connection: c.name, expect: cur.raw, next: JSON.stringify(o) }, schedule: { connection: c.name, expect: raw, next: '' }, record: (h) => seal(base, h) });
      } catch (e) {
        if (!(e instanceof LifecycleError) || e.code === 'conflict' || e.code === 'unavailable') continue; // another replica got there, or retry next tick
        const base = this.unsealed(actor, c, 'schedule_applied', { outcome: 'refused', error: e.code, from: auditStage(from), reason: s.reason, ticket: s.ticket, at: new Date(s.at).toISOString() });
        try {
          const r = await this.d.store.commit({ schedule: { connection: c.name, expect: raw, next: '' }, record: (h) => seal(base, h) });
          if (r.ok) await this.d.committed(r.record);
        } catch {
          // the next tick tries again
        }
      }
    }
  }

  private async effect(c: ConnectionConfig, from: StageValues, to: StageValues, at: number): Promise<Effect> {
    let pins = { legacy: 0, new: 0 };
    try {
      pins = await this.d.pinCounts(c.name);
    } catch {
      // the effect then says 0; the change itself does not depend on it
    }
    return describeEffect(c.name, from, to, at, pins.legacy, pins.new);
  }
}

