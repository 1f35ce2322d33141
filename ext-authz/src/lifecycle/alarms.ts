// What needs a person now (docs/stages.md, "The sunset alarm"): connections past their sunset_at, stages
// this replica cannot vouch for, automatic rollbacks in the last hour, and traffic after decommissioned.
// GET /v1/alarms and the cockpit's banner show them; the sunset seconds also feed the metric.
import type { RegistryConfig } from '../model/registry';
import type { AuditRecord } from './audit-chain';
import { effectiveValues } from './overrides';
import type { StageOverride } from './overrides';
import { HOUR_MS } from './traffic-stats';

export interface Alarm {
  connection: string;
  kind: 'sunset_exceeded' | 'stage_unknown' | 'proxy_decommissioned' | 'auto_rollback';
  since: string | null;
  message: string;
}

export interface SunsetExceeded {
  connection: string;
  seconds: number;
  sunset_at: string;
  stage: string;
}

/** Connections past their sunset_at, with the seconds since (the `callback_proxy_sunset_exceeded_seconds` value). */
export function sunsetExceeded(reg: RegistryConfig, overrides: ReadonlyMap<string, StageOverride>, now: number): SunsetExceeded[] {
  const out: SunsetExceeded[] = [];
  for (const c of reg.connections) {
    if (c.sunset_at === undefined || now <= c.sunset_at) continue;
    out.push({ connection: c.name, seconds: Math.floor((now - c.sunset_at) / 1000), sunset_at: new Date(c.sunset_at).toISOString(), stage: effectiveValues(c, overrides.get(c.name)).stage });
  }
  return out;
}

export interface AlarmInputs {
  registry: RegistryConfig;
  overrides: ReadonlyMap<string, StageOverride>;
  unknown: ReadonlySet<string> | null;
  /** The last request of a connection (ms), from the shared traffic counters. */
  lastRequest: (connection: string) => Promise<number | undefined>;
  /** Recent audit records (automatic rollbacks among them). */
  recent: readonly AuditRecord[];
  now: number;
}

export async function alarms(inp: AlarmInputs): Promise<Alarm[]> {
  const out: Alarm[] = [];
  for (const s of sunsetExceeded(inp.registry, inp.overrides, inp.now)) {
    out.push({ connection: s.connection, kind: 'sunset_exceeded', since: s.sunset_at, message: `past its sunset (${s.sunset_at}) by ${s.seconds} s: legacy routes are closed; remove the proxy` });
  }
  for (const name of inp.unknown ?? []) out.push({ connection: name, kind: 'stage_unknown', since: null, message: 'this replica cannot read the stage overrides: callbacks are denied stage_unknown' });
  for (const c of inp.registry.connections) {
    const o = inp.overrides.get(c.name);
    if (effectiveValues(c, o).stage !== 'decommissioned') continue;
    const last = await inp.lastRequest(c.name);
    if (last !== undefined && last > (o?.set_at ?? 0)) out.push({ connection: c.name, kind: 'proxy_decommissioned', since: new Date(last).toISOString(), message: 'decommissioned, yet requests still reach the proxy' });
  }
  for (const r of inp.recent) {
    if (r.action === 'auto_rollback' && r.outcome === 'applied' && inp.now - Date.parse(r.time) < HOUR_MS) {
      out.push({ connection: r.connection, kind: 'auto_rollback', since: r.time, message: r.reason });
    }
  }
  return out;
}
