// The commit phase (docs/architecture.md, "A callback, step by step"): one-time things are consumed
// last, and only by a request the decision forwards. Every marker the request carries (state or
// RelayState, code, logout-token / bearer jti, webhook id) is set in ONE all-or-nothing store operation.
// If any is already set, a concurrent twin won the race since the facts were read: the request is
// denied with that marker's replay reason and nothing is written (docs/threat-model.md T-S4, T-C1,
// T-J11, T-W1). A refused request never reaches this phase, so it can neither burn a victim's state
// nor fill the store.
//
// Nothing is evicted to make room: when a marker class is at its budget the request is denied
// replay_budget_exhausted and nothing is written (docs/operations.md, "Store budgets"). A store that
// lost its data since the facts were read (Redis restarted empty or rolled back) refuses the commit:
// the request is denied store_data_lost, its flow predates the loss.
import type { Decision } from '../model/decision';
import type { ReasonCode } from '../model/reasons';
import { StoreError } from '../store/types';
import type { BudgetClass } from '../store/budgets';
import type { Marker, ReplayStore } from '../store/types';
import { denyDecision } from '../policy/decision';
import type { OneTimeMarker } from './facts/context';
import { REPLAY_REASON } from './facts/phases/one-time';

export interface CommitOutcome {
  decision: Decision;
  /** Why the decision changed (field names only), else null. */
  problem: string | null;
  /** The marker class whose budget was full (null: the store's own memory), when that denied it. */
  full?: BudgetClass | null;
}

/** Is this decision one that sends the request upstream? (the adapters' own rule, check-response.ts) */
export function forwards(d: Decision): boolean {
  return (d.action === 'allow' || d.action === 'rewrite') && typeof d.backend === 'string' && d.backend.length > 0;
}

/** Consumes the request's one-time markers if the decision forwards it; else leaves everything alone. */
export async function commitOneTime(d: Decision, markers: readonly OneTimeMarker[], store: ReplayStore): Promise<CommitOutcome> {
  if (!forwards(d) || markers.length === 0) return { decision: d, problem: null };
  const toWrite: Marker[] = [];
  for (const m of markers) if (m.commit) toWrite.push({ namespace: m.namespace, hash: m.hash, ttlMs: m.ttlMs });
  if (toWrite.length === 0) return { decision: d, problem: null };
  let reason: ReasonCode;
  try {
    const r = await store.commit(toWrite);
    if (r.ok) return { decision: d, problem: null };
    if ('full' in r) {
      return { decision: denyDecision(['replay_budget_exhausted'], d.dynamic_metadata), problem: 'the one-time marker budget is full', full: r.full };
    }
    reason = REPLAY_REASON[toWrite[r.taken].namespace];
  } catch (e) {
    if (e instanceof StoreError && e.code === 'store_epoch_changed') {
      // The user can recover by starting over: the same static hint the policy gives expired flows.
      const deny = denyDecision(['store_data_lost'], { ...d.dynamic_metadata, restart_login: true });
      return { decision: { ...deny, response_headers: { 'x-callback-hint': 'restart-login' } }, problem: 'the replay store lost its data since the facts were read' };
    }
    return { decision: denyDecision(['store_unavailable'], d.dynamic_metadata), problem: 'one-time markers could not be written' };
  }
  return { decision: denyDecision([reason], d.dynamic_metadata), problem: 'a one-time marker was consumed by a concurrent request' };
}
