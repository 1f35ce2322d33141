// What `GET /v1/connections` and the cockpit show per connection (docs/stages.md, "The admin API"): the
// file's stage beside the override and the effective one, a pending scheduled change, countdowns, pins
// still outstanding, the last hour's decision mix and the SLO guard's window. Names and counts only.
import type { ConnectionConfig, FreezeWindow, Stage } from '../model/registry';
import type { StageOverride } from './overrides';
import { effectiveValues, fileValues } from './overrides';
import type { PinCensus } from './pin-census';
import type { GuardEvidence } from './slo-guard';
import type { ScheduledChange } from './stage-control';
import { activeFreeze } from './transitions';
import type { StageValues } from './transitions';
import { CATEGORIES } from './traffic-stats';
import type { Bucket, Category } from './traffic-stats';

export interface StageView {
  stage: Stage;
  canary_percent: number;
  drain_until: string | null;
}

export interface ConnectionView {
  name: string;
  file: StageView;
  override: (StageView & { set_by: string; set_at: string; reason: string; ticket: string | null }) | null;
  effective: StageView;
  /** false while this replica cannot read the overrides: callbacks are denied stage_unknown. */
  stage_known: boolean;
  scheduled: { at: string; stage: Stage; canary_percent: number | null; actor: string; reason: string; ticket: string | null } | null;
  require_approval: boolean;
  backends: { id: string; role: 'legacy' | 'new' }[];
  drain_remaining_s: number | null;
  sunset_at: string | null;
  sunset_remaining_s: number | null;
  freeze: { reason: string; until: string } | null;
  /** Unconsumed pins per role (null when the store could not be counted). */
  pins: { legacy: number; new: number; lower_bound: boolean; legacy_latest_expiry: string | null } | null;
  /** Per minute over the last hour, oldest first (null when the store could not be read). */
  mix: ({ start: string } & Record<Category, number>)[] | null;
  /** Share of the last hour's allowed decisions that went to legacy (null without traffic). */
  legacy_share: number | null;
  guard: (GuardEvidence & { active: boolean }) | null;
}

const iso = (ms: number | null | undefined): string | null => (ms === null || ms === undefined ? null : new Date(ms).toISOString());

function stageView(v: StageValues): StageView {
  return { stage: v.stage, canary_percent: v.canary_percent, drain_until: iso(v.drain_until) };
}

export interface ViewInputs {
  config: ConnectionConfig;
  override: StageOverride | null;
  stageKnown: boolean;
  scheduled: ScheduledChange | null;
  minutes: Bucket[] | null;
  census: PinCensus | null;
  guard: GuardEvidence | null;
  freezeWindows: readonly FreezeWindow[];
  now: number;
}

export function connectionView(v: ViewInputs): ConnectionView {
  const c = v.config;
  const eff = effectiveValues(c, v.override ?? undefined);
  const legacy = c.backends.find((b) => b.role === 'legacy');
  const neu = c.backends.find((b) => b.role === 'new');
  const pinCount = (id: string | undefined): number => (id === undefined ? 0 : (v.census?.pins.get(`${c.name}|${id}`)?.count ?? 0));
  let mix: ConnectionView['mix'] = null;
  let legacyShare: number | null = null;
  if (v.minutes !== null) {
    let toLegacy = 0;
    let toNew = 0;
    mix = v.minutes.map((b) => {
      const row = { start: new Date(b.start).toISOString() } as { start: string } & Record<Category, number>;
      for (const k of CATEGORIES) row[k] = b.counts[`c:${k}`] ?? 0;
      toLegacy += row.allow_legacy;
      toNew += row.allow_new;
      return row;
    });
    legacyShare = toLegacy + toNew === 0 ? null : toLegacy / (toLegacy + toNew);
  }
  const freeze = activeFreeze(v.freezeWindows, c.name, v.now);
  const o = v.override;
  const s = v.scheduled;
  return {
    name: c.name,
    file: stageView(fileValues(c)),
    override: o ? { ...stageView(o), set_by: o.set_by, set_at: new Date(o.set_at).toISOString(), reason: o.reason, ticket: o.ticket } : null,
    effective: stageView(eff),
    stage_known: v.stageKnown,
    scheduled: s ? { at: new Date(s.at).toISOString(), stage: s.request.to, canary_percent: s.request.canary_percent ?? null, actor: s.actor, reason: s.reason, ticket: s.ticket } : null,
    require_approval: c.require_approval === true,
    backends: c.backends.map((b) => ({ id: b.id, role: b.role })),
    drain_remaining_s: eff.drain_until === null ? null : Math.max(0, Math.floor((eff.drain_until - v.now) / 1000)),
    sunset_at: iso(c.sunset_at),
    sunset_remaining_s: c.sunset_at === undefined ? null : Math.floor((c.sunset_at - v.now) / 1000),
    freeze: freeze ? { reason: freeze.reason, until: new Date(freeze.end).toISOString() } : null,
    pins: v.census === null ? null : {
      legacy: pinCount(legacy?.id),
      new: pinCount(neu?.id),
      lower_bound: v.census.truncated,
      legacy_latest_expiry: iso(v.census.pins.get(`${c.name}|${legacy?.id}`)?.latest_expiry || null),
    },
    mix,
    legacy_share: legacyShare,
    guard: v.guard === null && c.guard === undefined ? null : v.guard ? { ...v.guard, active: true } : guardIdle(c),
  };
}

function guardIdle(c: ConnectionConfig): GuardEvidence & { active: boolean } {
  const g = c.guard!;
  return { window_s: g.window_s, callbacks_new: 0, denied_broken: 0, ratio: 0, deny_ratio: g.deny_ratio, min_callbacks: g.min_callbacks, reasons: {}, since: '', until: '', active: false };
}
