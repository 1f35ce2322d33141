// Runtime stage overrides (docs/stages.md, "One source of truth"): the registry file is the desired
// baseline; a change made through the admin API is an override kept in the shared store. The facts
// read the effective values through prepared deps rebuilt once per change — never per request.
import type { ConnectionConfig, RegistryConfig, Stage } from '../model/registry';
import { STAGES } from '../model/registry';
import type { FactsDeps, PreparedConnection } from '../pipeline/facts/deps';
import { migrationBase } from '../pipeline/facts/migration';
import type { AuditStage } from './audit-chain';
import type { StageValues } from './transitions';

export interface StageOverride extends StageValues {
  /** The admin token name (or slo-guard / scheduler) that set it. */
  set_by: string;
  set_at: number;
  reason: string;
  ticket: string | null;
  /** The values in effect before this override: where the SLO guard rolls back to. */
  previous: StageValues;
}

export function fileValues(c: ConnectionConfig): StageValues {
  return { stage: c.stage, canary_percent: c.canary_percent, drain_until: c.drain_until ?? null };
}

export function effectiveValues(c: ConnectionConfig, o: StageOverride | undefined): StageValues {
  return o ? { stage: o.stage, canary_percent: o.canary_percent, drain_until: o.drain_until } : fileValues(c);
}

export function auditStage(v: StageValues): AuditStage {
  return { stage: v.stage, canary_percent: v.canary_percent, drain_until: v.drain_until === null ? null : new Date(v.drain_until).toISOString() };
}

const isStage = (s: unknown): s is Stage => typeof s === 'string' && (STAGES as readonly string[]).includes(s);
const isValues = (v: unknown): v is StageValues => {
  const o = v as StageValues;
  return typeof o === 'object' && o !== null && isStage(o.stage) && typeof o.canary_percent === 'number' && (o.drain_until === null || typeof o.drain_until === 'number');
};

/** Reads a stored override; null when it is not one (a corrupt entry makes the connection's stage unknown). */
export function parseOverride(raw: string): StageOverride | null {
  try {
    const o = JSON.parse(raw) as StageOverride;
    if (!isValues(o) || !isValues(o.previous) || typeof o.set_by !== 'string' || typeof o.set_at !== 'number') return null;
    return o;
  } catch {
    return null;
  }
}

/** The connection config the facts see: the file's, with the override's stage, percent and drain date. */
export function effectiveConfig(c: ConnectionConfig, o: StageOverride): ConnectionConfig {
  const next: ConnectionConfig = { ...c, stage: o.stage, canary_percent: o.canary_percent };
  if (o.drain_until === null) delete next.drain_until;
  else next.drain_until = o.drain_until;
  return next;
}

/**
 * Facts deps with the overrides applied. Everything but the overridden connections is shared with the
 * base (issuer verifiers and their JWKS caches, keys, stores): a stage change costs a few objects.
 */
export function applyOverrides(base: FactsDeps, overrides: ReadonlyMap<string, StageOverride>): FactsDeps {
  if (overrides.size === 0) return base;
  const connections = new Map<string, PreparedConnection>();
  const replaced = new Map<PreparedConnection, PreparedConnection>();
  for (const [name, p] of base.connections) {
    const o = overrides.get(name);
    if (!o) {
      connections.set(name, p);
      continue;
    }
    const config = effectiveConfig(p.config, o);
    const next: PreparedConnection = { ...p, config, migration: migrationBase({ config, legacy: p.legacy, new: p.new }) };
    connections.set(name, next);
    replaced.set(p, next);
  }
  const hosts = new Map<string, PreparedConnection>();
  for (const [h, p] of base.hosts) hosts.set(h, replaced.get(p) ?? p);
  return { ...base, connections, hosts };
}

/** The registry with overrides applied (what the admin API and the report show as "effective"). */
export function effectiveRegistry(reg: RegistryConfig, overrides: ReadonlyMap<string, StageOverride>): RegistryConfig {
  if (overrides.size === 0) return reg;
  return { ...reg, connections: reg.connections.map((c) => (overrides.has(c.name) ? effectiveConfig(c, overrides.get(c.name)!) : c)) };
}
