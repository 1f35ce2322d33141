// The stage transition rules (docs/stages.md, "Stage transitions"): which moves are legal, which need an
// approver or a ticket, and what a move must carry. Pure: the caller supplies the clock, the role and
// whether the removal report is clean.
import type { AdminRole, ConnectionConfig, FreezeWindow, Stage } from '../model/registry';
import { LifecycleError } from './errors';

/**
 * Legal moves. A stage may only move to a stage that keeps every in-flight flow routable: a flow pinned
 * to new must never land in `observe` (which denies new pins) while it can still complete, and legacy is
 * only closed (retired) after a cutover drained it.
 */
export const TRANSITIONS: Readonly<Record<Stage, readonly Stage[]>> = {
  observe: ['shadow', 'canary'],
  shadow: ['observe', 'canary'],
  canary: ['shadow', 'canary', 'cutover', 'rollback'],
  cutover: ['canary', 'rollback', 'retired'],
  rollback: ['observe', 'shadow', 'canary', 'cutover'],
  retired: ['cutover', 'decommissioned'],
  decommissioned: ['retired'],
};

/** Target stages that need an `approver` when the connection sets `require_approval` (T-D5 covers rollback). */
export const APPROVAL_STAGES: ReadonlySet<Stage> = new Set<Stage>(['cutover', 'rollback', 'retired', 'decommissioned']);

const ROLE_RANK: Record<AdminRole, number> = { viewer: 0, operator: 1, approver: 2 };

export function roleAtLeast(role: AdminRole, needed: AdminRole): boolean {
  return ROLE_RANK[role] >= ROLE_RANK[needed];
}

/** The stage-relevant part of a connection: the file's values or an override's. */
export interface StageValues {
  stage: Stage;
  canary_percent: number;
  /** epoch ms, or null */
  drain_until: number | null;
}

export interface TransitionRequest {
  to: Stage;
  canary_percent?: number;
  drain_until?: number | null;
  ticket?: string;
}

export interface TransitionContext {
  connection: ConnectionConfig;
  /** The stage in effect now (override or file). */
  current: StageValues;
  /** When the change takes effect (now, or the scheduled `at`). */
  at: number;
  /** null for automatic actions (the SLO guard): they are not subject to roles. */
  role: AdminRole | null;
  /** Whether the removal report for this connection is clean (only asked for decommissioned). */
  removable: () => boolean;
  /** Through the API (a person) or the SLO guard / scheduler. */
  automatic: boolean;
  /** A reset to the file's values: the same stage with other values is legal. */
  reset?: boolean;
}

/**
 * The rules every move obeys, whatever its values: the table, roles and approval, the rollback ticket,
 * the drain deadlines, and a clean removal report for decommissioned. `drain` is the deadline the
 * current stage promised (its drain_until). Throws LifecycleError with the refusal code.
 */
export function checkMove(to: Stage, req: { ticket?: string }, ctx: TransitionContext): void {
  if (!ctx.automatic && ctx.role !== null) {
    if (!roleAtLeast(ctx.role, 'operator')) throw new LifecycleError('forbidden', 'changing a stage needs the operator role');
    if (ctx.connection.require_approval === true && APPROVAL_STAGES.has(to) && !roleAtLeast(ctx.role, 'approver')) {
      throw new LifecycleError('approval_required', `connection ${ctx.connection.name} requires an approver for ${to}`);
    }
  }
  const from = ctx.current.stage;
  // Same stage, other values (a canary percentage, a drain date): always a legal move for a reset.
  if (!(from === to && ctx.reset === true) && !TRANSITIONS[from].includes(to)) {
    throw new LifecycleError('illegal_transition', `${from} → ${to} is not a legal transition (from ${from}: ${TRANSITIONS[from].join(', ') || 'none'})`);
  }
  // T-D3: a rollback through the API carries an incident id.
  if (to === 'rollback' && !ctx.automatic && !req.ticket) throw new LifecycleError('ticket_required', 'a rollback needs a ticket (incident id)');
  const drain = ctx.current.drain_until;
  if (from === 'rollback' && to === 'observe' && drain !== null && ctx.at <= drain) {
    throw new LifecycleError('illegal_transition', `rollback → observe: flows pinned to new drain until ${new Date(drain).toISOString()}; observe would deny them`);
  }
  if (from === 'cutover' && to === 'retired' && drain !== null && ctx.at <= drain) {
    throw new LifecycleError('illegal_transition', `cutover → retired: legacy flows drain until ${new Date(drain).toISOString()}`);
  }
  if (to === 'decommissioned' && !ctx.removable()) {
    throw new LifecycleError('not_removable', 'decommissioned needs a clean removal report (GET /v1/report)');
  }
}

/** Validates a move and returns the values to put in effect. Throws LifecycleError with the refusal code. */
export function planTransition(req: TransitionRequest, ctx: TransitionContext): StageValues {
  const to = req.to;
  checkMove(to, req, ctx);
  const from = ctx.current.stage;
  let percent = ctx.current.canary_percent;
  if (to === 'canary') {
    const p = req.canary_percent ?? (from === 'canary' ? undefined : ctx.current.canary_percent);
    if (p === undefined || !Number.isInteger(p) || p < 1 || p > 100) {
      throw new LifecycleError('invalid_argument', 'canary_percent: canary needs an integer percentage 1..100');
    }
    percent = p;
  } else if (req.canary_percent !== undefined) {
    throw new LifecycleError('invalid_argument', `canary_percent: only meaningful for canary, not ${to}`);
  }
  let drain: number | null;
  if (to === 'cutover' || to === 'rollback') {
    // Legacy (cutover) or new (rollback) pins live at most pin_ttl_s: by default every in-flight flow
    // started before the change can still finish.
    drain = req.drain_until ?? ctx.at + ctx.connection.pin_ttl_s * 1000;
    if (drain < ctx.at) throw new LifecycleError('invalid_argument', 'drain_until: must not be before the change takes effect');
  } else if (req.drain_until !== undefined && req.drain_until !== null) {
    throw new LifecycleError('invalid_argument', `drain_until: only meaningful for cutover and rollback, not ${to}`);
  } else {
    // Retired and later keep the deadline that was promised (the policy compares pins with it, T-D2).
    drain = to === 'retired' || to === 'decommissioned' ? ctx.current.drain_until : null;
  }
  const next: StageValues = { stage: to, canary_percent: percent, drain_until: drain };
  if (next.stage === from && next.canary_percent === ctx.current.canary_percent && next.drain_until === ctx.current.drain_until) {
    throw new LifecycleError('no_change', `${to} is already in effect`);
  }
  return next;
}

/** The freeze window active at `at` for this connection, if any. */
export function activeFreeze(windows: readonly FreezeWindow[], connection: string, at: number): FreezeWindow | null {
  for (const w of windows) {
    if (at >= w.start && at < w.end && (w.connections === undefined || w.connections.includes(connection))) return w;
  }
  return null;
}
