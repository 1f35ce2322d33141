// The bodies of the stage API (docs/stages.md, "The admin API"), read strictly: known fields only,
// each error naming its field. And the sentence a confirmation shows before a change ("N flows are
// pinned to legacy; they drain until T").
import type { Stage } from '../model/registry';
import { STAGES } from '../model/registry';
import { LifecycleError } from './errors';
import type { StageValues } from './transitions';

export interface StageRequest {
  stage: Stage;
  canary_percent?: number;
  /** epoch ms */
  drain_until?: number;
  reason: string;
  ticket?: string;
  /** epoch ms: schedule instead of applying now */
  at?: number;
  /** only compute the effect */
  dry_run?: boolean;
}

export interface ResetRequest {
  reason: string;
  ticket?: string;
  dry_run?: boolean;
}

const bad = (field: string, what: string): LifecycleError => new LifecycleError('invalid_argument', `${field}: ${what}`);

function obj(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw bad('body', 'expected a JSON object');
  return body as Record<string, unknown>;
}

function known(o: Record<string, unknown>, fields: readonly string[]): void {
  for (const k of Object.keys(o)) if (!fields.includes(k)) throw bad(k, 'unknown field');
}

/** Free text that ends up in the audit trail and the cockpit: printable, bounded. */
function text(o: Record<string, unknown>, field: string, max: number, required: boolean): string | undefined {
  const v = o[field];
  if (v === undefined || v === null || v === '') {
    if (required) throw bad(field, 'required (say why)');
    return undefined;
  }
  if (typeof v !== 'string' || v.length > max || /[\x00-\x1f\x7f]/.test(v)) throw bad(field, `expected printable text of at most ${max} characters`);
  return v;
}

function instant(o: Record<string, unknown>, field: string): number | undefined {
  const v = o[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string' || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(v) || Number.isNaN(Date.parse(v))) {
    throw bad(field, 'expected an RFC 3339 date-time with offset');
  }
  return Date.parse(v);
}

function flag(o: Record<string, unknown>, field: string): boolean | undefined {
  const v = o[field];
  if (v === undefined) return undefined;
  if (typeof v !== 'boolean') throw bad(field, 'expected true or false');
  return v;
}

export function readStageRequest(body: unknown): StageRequest {
  const o = obj(body);
  known(o, ['stage', 'canary_percent', 'drain_until', 'reason', 'ticket', 'at', 'dry_run']);
  if (typeof o.stage !== 'string' || !(STAGES as readonly string[]).includes(o.stage)) throw bad('stage', `expected one of ${STAGES.join('|')}`);
  const r: StageRequest = { stage: o.stage as Stage, reason: text(o, 'reason', 500, true)! };
  if (o.canary_percent !== undefined && o.canary_percent !== null) {
    if (typeof o.canary_percent !== 'number' || !Number.isInteger(o.canary_percent) || o.canary_percent < 1 || o.canary_percent > 100) throw bad('canary_percent', 'expected an integer 1..100');
    r.canary_percent = o.canary_percent;
  }
  const drain = instant(o, 'drain_until');
  if (drain !== undefined) r.drain_until = drain;
  const ticket = text(o, 'ticket', 100, false);
  if (ticket !== undefined) r.ticket = ticket;
  const at = instant(o, 'at');
  if (at !== undefined) r.at = at;
  const dry = flag(o, 'dry_run');
  if (dry !== undefined) r.dry_run = dry;
  return r;
}

export function readResetRequest(body: unknown): ResetRequest {
  const o = obj(body);
  known(o, ['reason', 'ticket', 'dry_run']);
  const r: ResetRequest = { reason: text(o, 'reason', 500, true)! };
  const ticket = text(o, 'ticket', 100, false);
  if (ticket !== undefined) r.ticket = ticket;
  const dry = flag(o, 'dry_run');
  if (dry !== undefined) r.dry_run = dry;
  return r;
}

export interface Effect {
  connection: string;
  from: StageValues;
  to: StageValues;
  at: string;
  pinned_legacy: number;
  pinned_new: number;
  message: string;
}

const when = (ms: number | null): string => (ms === null ? 'no deadline' : new Date(ms).toISOString());
const flows = (n: number): string => (n === 1 ? '1 flow is' : `${n} flows are`);

/** What a change does to traffic, in one sentence the operator confirms. */
export function describeEffect(connection: string, from: StageValues, to: StageValues, at: number, pinnedLegacy: number, pinnedNew: number): Effect {
  let message: string;
  switch (to.stage) {
    case 'observe':
    case 'shadow':
      message = `New flows go to legacy${to.stage === 'shadow' ? ' (new is only evaluated, never sent traffic)' : ''}. ${flows(pinnedLegacy)} pinned to legacy and finish there; ${flows(pinnedNew)} pinned to new${to.stage === 'observe' ? ' and will be denied' : ' and finish there'}.`;
      break;
    case 'canary':
      message = `${to.canary_percent} % of new flows go to new, decided once at login start. ${flows(pinnedLegacy)} pinned to legacy and ${pinnedNew} to new; each finishes where it started.`;
      break;
    case 'cutover':
      message = `Every new flow goes to new. ${flows(pinnedLegacy)} pinned to legacy; they drain until ${when(to.drain_until)}, after that they must restart their login.`;
      break;
    case 'rollback':
      message = `New flows go back to legacy. ${flows(pinnedNew)} pinned to new; they drain on new until ${when(to.drain_until)}.`;
      break;
    case 'retired':
      message = `Legacy closes: ${flows(pinnedLegacy)} pinned to legacy and will be denied; legacy-issued tokens are no longer accepted.`;
      break;
    case 'decommissioned':
      message = 'The proxy should now be out of the request path: every request it still sees raises the decommissioned alarm.';
      break;
  }
  return { connection, from, to, at: new Date(at).toISOString(), pinned_legacy: pinnedLegacy, pinned_new: pinnedNew, message };
}
