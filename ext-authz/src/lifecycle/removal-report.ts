// The removal report (docs/stages.md, "The removal report"): per connection, the evidence that the
// proxy can go — traffic by backend and the last legacy callback, outstanding pins, legacy tokens still
// accepted, credentials that can be revoked (names only), mappings no traffic used, the sunset, and
// whether the proxy is still in the request path — and a verdict with its reasons. Pure: the lifecycle
// gathers the inputs.
import type { ConnectionConfig, RegistryConfig, Stage } from '../model/registry';
import type { PinCensus } from './pin-census';
import type { StageOverride } from './overrides';
import type { Bucket } from './traffic-stats';

/** Why a connection is not removable (report reasons; docs/stages.md lists them with their fixes). */
export type BlockerCode =
  | 'stage_not_retired'
  | 'legacy_traffic_recent'
  | 'legacy_pins_outstanding'
  | 'legacy_tokens_accepted'
  | 'proxy_in_request_path'
  | 'stage_unknown'
  | 'stats_unavailable';

export interface Credential {
  kind: 'pin_api_token' | 'state_key' | 'webhook_secret' | 'issuer' | 'admin_token';
  /** Where it is in the registry (a name or a path), never its value. */
  name: string;
  why: string;
}

export interface MappingUse {
  kind: 'route' | 'backend';
  name: string;
  last_used: string | null;
  unused: boolean;
}

export interface ConnectionReport {
  connection: string;
  stage: { file: Stage; effective: Stage; override: boolean };
  traffic: {
    tracking_since: string | null;
    /** Hour buckets (oldest first): callbacks attributed to each backend. */
    hours: { start: string; by_backend: Record<string, number> }[];
    last_legacy_callback: string | null;
    last_request: string | null;
  };
  outstanding: { legacy_pins: number; new_pins: number; latest_legacy_pin_expiry: string | null; replay_markers: number; latest_marker_expiry: string | null; lower_bound: boolean };
  legacy_tokens: { accepted: boolean; until: string | null };
  revocable_credentials: Credential[];
  unused_mappings: MappingUse[];
  sunset: { at: string | null; passed: boolean; exceeded_s: number };
  proxy_in_request_path: boolean | null;
  removable: boolean;
  reasons: BlockerCode[];
}

export interface RemovalReport {
  generated_at: string;
  removable: boolean;
  connections: ConnectionReport[];
}

export interface ReportInputs {
  now: number;
  /** The file's registry (effective values come from `overrides`). */
  registry: RegistryConfig;
  overrides: ReadonlyMap<string, StageOverride>;
  /** Connections whose stage this replica cannot vouch for (the overrides are unreadable). */
  unknown: ReadonlySet<string> | null;
  census: PinCensus | null;
  /** Per connection; null when the shared store could not be read. */
  traffic: Map<string, { hours: Bucket[]; seen: Record<string, number> } | null>;
  trackingSince: number | null;
}

const iso = (ms: number | null | undefined): string | null => (ms === null || ms === undefined || ms <= 0 ? null : new Date(ms).toISOString());
const DAY_MS = 86_400_000;

export function buildReport(inp: ReportInputs): RemovalReport {
  const connections = inp.registry.connections.map((c) => connectionReport(c, inp));
  return { generated_at: new Date(inp.now).toISOString(), removable: connections.every((c) => c.removable), connections };
}

function connectionReport(file: ConnectionConfig, inp: ReportInputs): ConnectionReport {
  const o = inp.overrides.get(file.name);
  const stage: Stage = o?.stage ?? file.stage;
  const legacy = file.backends.find((b) => b.role === 'legacy')!;
  const neu = file.backends.find((b) => b.role === 'new')!;
  const { now } = inp;
  const removal = inp.registry.lifecycle?.removal ?? { quiet_s: 7 * 86400, unused_mapping_days: 30 };
  const reasons: BlockerCode[] = [];
  if (inp.unknown !== null && inp.unknown.has(file.name)) reasons.push('stage_unknown');
  const retiredOrLater = stage === 'retired' || stage === 'decommissioned';
  if (!retiredOrLater) reasons.push('stage_not_retired');

  const t = inp.traffic.get(file.name) ?? null;
  if (t === null) reasons.push('stats_unavailable');
  const seen = t?.seen ?? {};
  const lastLegacy = seen[`b:${legacy.id}`] ?? null;
  if (lastLegacy !== null && now - lastLegacy < removal.quiet_s * 1000) reasons.push('legacy_traffic_recent');

  const pinsOf = (b: string) => inp.census?.pins.get(`${file.name}|${b}`) ?? { count: 0, latest_expiry: 0 };
  const legacyPins = pinsOf(legacy.id);
  let markers = 0;
  let markerExpiry = 0;
  for (const m of inp.census?.markers.values() ?? []) {
    markers += m.count;
    markerExpiry = Math.max(markerExpiry, m.latest_expiry);
  }
  if (inp.census === null) {
    if (!reasons.includes('stats_unavailable')) reasons.push('stats_unavailable');
  } else if (legacyPins.count > 0 && !retiredOrLater) {
    // Once retired, a legacy pin can never be honoured again (its callback is denied backend_retired,
    // with the restart hint), so removing the proxy changes nothing for it: reported, not a blocker.
    reasons.push('legacy_pins_outstanding');
  }

  // The stage table (docs/stages.md, "The stages"): legacy-issued tokens are accepted before retired, until the legacy backend's
  // retire_tokens_at and never past the sunset.
  const sunsetPassed = file.sunset_at !== undefined && now > file.sunset_at;
  const tokensRetired = legacy.retire_tokens_at !== undefined && now >= legacy.retire_tokens_at;
  const accepted = !retiredOrLater && !sunsetPassed && !tokensRetired;
  const until = accepted ? Math.min(legacy.retire_tokens_at ?? Infinity, file.sunset_at ?? Infinity) : null;
  if (accepted) reasons.push('legacy_tokens_accepted');

  // After decommissioned, any request within the quiet period means something still routes through us.
  let inPath: boolean | null = null;
  if (stage === 'decommissioned') {
    const since = o?.stage === 'decommissioned' ? o.set_at : 0;
    const last = seen.any ?? null;
    inPath = last !== null && last > since && now - last < removal.quiet_s * 1000;
    if (inPath) reasons.push('proxy_in_request_path');
  }

  const removable = reasons.length === 0;
  return {
    connection: file.name,
    stage: { file: file.stage, effective: stage, override: o !== undefined },
    traffic: {
      tracking_since: iso(inp.trackingSince),
      hours: (t?.hours ?? []).map((h) => ({ start: new Date(h.start).toISOString(), by_backend: byBackend(h, [legacy.id, neu.id]) })),
      last_legacy_callback: iso(lastLegacy),
      last_request: iso(seen.any),
    },
    outstanding: {
      legacy_pins: legacyPins.count,
      new_pins: pinsOf(neu.id).count,
      latest_legacy_pin_expiry: iso(legacyPins.latest_expiry),
      replay_markers: markers,
      latest_marker_expiry: iso(markerExpiry),
      lower_bound: inp.census?.truncated ?? false,
    },
    legacy_tokens: { accepted, until: accepted && Number.isFinite(until) ? iso(until) : null },
    revocable_credentials: revocable(file, inp.registry, stage, removable, lastLegacy === null || now - lastLegacy >= removal.quiet_s * 1000, now),
    unused_mappings: unusedMappings(file, seen, inp.trackingSince, now, removal.unused_mapping_days),
    sunset: { at: iso(file.sunset_at), passed: sunsetPassed, exceeded_s: sunsetPassed ? Math.floor((now - file.sunset_at!) / 1000) : 0 },
    proxy_in_request_path: inPath,
    removable,
    reasons,
  };
}

function byBackend(h: Bucket, ids: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const id of ids) out[id] = h.counts[`b:${id}`] ?? 0;
  return out;
}

/**
 * Credentials that can now be revoked, by name: once the stage closed legacy and its traffic went quiet,
 * everything that only served the legacy backend; once decommissioned and removable, the proxy's own.
 */
function revocable(c: ConnectionConfig, reg: RegistryConfig, stage: Stage, removable: boolean, legacyQuiet: boolean, now: number): Credential[] {
  const out: Credential[] = [];
  const legacy = c.backends.find((b) => b.role === 'legacy')!;
  const legacyDone = (stage === 'retired' || stage === 'decommissioned') && legacyQuiet;
  // A backend id another live connection still uses keeps its keys.
  const sharedWithLive = reg.connections.some((o) => o.name !== c.name && o.backends.some((b) => b.id === legacy.id));
  if (legacyDone && !sharedWithLive) {
    if (legacy.id in reg.keys.pin_api_tokens) out.push({ kind: 'pin_api_token', name: `keys.pin_api_tokens.${legacy.id}`, why: 'the legacy backend starts no more flows' });
    if (legacy.id in reg.keys.state_keys) out.push({ kind: 'state_key', name: `keys.state_keys.${legacy.id}`, why: 'no legacy state is verified any more' });
    for (const iss of reg.issuers) if (iss.backend === legacy.id) out.push({ kind: 'issuer', name: `issuers[${iss.issuer}]`, why: 'legacy-issued tokens are no longer accepted' });
  }
  for (const s of c.webhook?.secrets ?? []) {
    if (s.retire_at !== undefined && now >= s.retire_at) out.push({ kind: 'webhook_secret', name: `connections[${c.name}].webhook.secrets[${s.id}]`, why: 'past its retire_at' });
    else if (stage === 'decommissioned' && removable) out.push({ kind: 'webhook_secret', name: `connections[${c.name}].webhook.secrets[${s.id}]`, why: "the proxy's copy: it verifies no more webhooks" });
  }
  if (stage === 'decommissioned' && removable) {
    for (const b of c.backends) {
      if (b.id === legacy.id || reg.connections.some((o) => o.name !== c.name && o.backends.some((x) => x.id === b.id))) continue;
      if (b.id in reg.keys.pin_api_tokens) out.push({ kind: 'pin_api_token', name: `keys.pin_api_tokens.${b.id}`, why: 'the proxy is out of the request path' });
      if (b.id in reg.keys.state_keys) out.push({ kind: 'state_key', name: `keys.state_keys.${b.id}`, why: 'no state envelope is verified by the proxy any more' });
    }
    if (reg.connections.length === 1) for (const t of reg.keys.admin_tokens ?? []) out.push({ kind: 'admin_token', name: `keys.admin_tokens[${t.name}]`, why: 'the proxy is out of the request path' });
  }
  return out;
}

function unusedMappings(c: ConnectionConfig, seen: Record<string, number>, since: number | null, now: number, days: number): MappingUse[] {
  const limit = now - days * DAY_MS;
  // "Unused for N days" needs N days of counting: before that, nothing is reported as unused.
  const provable = since !== null && since <= limit;
  const use = (kind: MappingUse['kind'], name: string, key: string): MappingUse => {
    const last = seen[key] ?? null;
    return { kind, name, last_used: iso(last), unused: provable && (last === null || last < limit) };
  };
  const out: MappingUse[] = [];
  for (const paths of Object.values(c.routes)) for (const p of paths) out.push(use('route', p, `r:${p}`));
  for (const b of c.backends) out.push(use('backend', b.id, `b:${b.id}`));
  return out.filter((m) => m.unused);
}

/** The report as text (`callback-proxy audit report --format text`). */
export function reportText(r: RemovalReport): string {
  const lines: string[] = [`removal report ${r.generated_at}: ${r.removable ? 'REMOVABLE' : 'NOT removable'}`];
  for (const c of r.connections) {
    lines.push('', `connection ${c.connection}: removable=${c.removable}${c.reasons.length ? ` (${c.reasons.join(', ')})` : ''}`);
    lines.push(`  stage: ${c.stage.effective}${c.stage.override ? ` (override; file says ${c.stage.file})` : ''}`);
    lines.push(`  last legacy callback: ${c.traffic.last_legacy_callback ?? 'none seen'}; last request: ${c.traffic.last_request ?? 'none seen'}; counting since ${c.traffic.tracking_since ?? 'unknown'}`);
    lines.push(`  outstanding: ${c.outstanding.legacy_pins} legacy pins${c.outstanding.latest_legacy_pin_expiry ? ` (until ${c.outstanding.latest_legacy_pin_expiry})` : ''}, ${c.outstanding.new_pins} new pins, ${c.outstanding.replay_markers} replay markers${c.outstanding.lower_bound ? ' (at least)' : ''}`);
    lines.push(`  legacy tokens: ${c.legacy_tokens.accepted ? `accepted${c.legacy_tokens.until ? ` until ${c.legacy_tokens.until}` : ' with no end date'}` : 'not accepted'}`);
    lines.push(`  sunset: ${c.sunset.at ?? 'not set'}${c.sunset.passed ? ` — PASSED ${c.sunset.exceeded_s} s ago` : ''}`);
    if (c.proxy_in_request_path !== null) lines.push(`  proxy still in the request path: ${c.proxy_in_request_path ? 'YES' : 'no'}`);
    lines.push(`  revocable credentials: ${c.revocable_credentials.length === 0 ? 'none yet' : ''}`);
    for (const k of c.revocable_credentials) lines.push(`    - ${k.kind} ${k.name}: ${k.why}`);
    if (c.unused_mappings.length > 0) {
      lines.push('  unused mappings:');
      for (const m of c.unused_mappings) lines.push(`    - ${m.kind} ${m.name} (last used ${m.last_used ?? 'never'})`);
    }
  }
  return `${lines.join('\n')}\n`;
}
