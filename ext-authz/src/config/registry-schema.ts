// The registry YAML schema (zod 4) → RegistryConfig (config/types.ts is the contract; the YAML uses
// the same field names). Instants are RFC 3339 strings in YAML and epoch ms after parsing.
import { z } from 'zod';
import { ADMIN_ROLES, credentialFor, DEFAULT_ROUTING_HEADER, STAGES } from '../model/registry';
import type { AdminRole, RegistryConfig, Stage } from '../model/registry';
import { isReasonCode } from '../model/reasons';
import { resolveSecret } from './secret-refs';
import type { SecretContext } from './secret-refs';

export const DEFAULT_LIMITS = {
  max_params: 20,
  max_state_bytes: 512,
  max_code_bytes: 2048,
  max_relay_state_bytes: 80,
  max_token_bytes: 16384,
  max_body_bytes: 262144,
  max_state_markers: 250_000,
  max_code_markers: 250_000,
  max_webhook_markers: 100_000,
  max_jti_markers: 100_000,
  max_pins: 250_000,
  unknown_states_per_source_per_min: 60,
  unknown_states_per_connection_per_min: 6000,
  max_limited_sources: 50_000,
} as const;

export { DEFAULT_ROUTING_HEADER } from '../model/registry';

/** Removal-report thresholds when the registry sets none (docs/stages.md, "The removal report"). */
export const DEFAULT_REMOVAL = { quiet_s: 7 * 86400, unused_mapping_days: 30 } as const;
export const DEFAULT_STRIP_HEADERS = [
  DEFAULT_ROUTING_HEADER, 'x-callback-reason', 'x-forwarded-host', 'forwarded', 'x-original-url', 'x-rewrite-url',
  'x-cbp-target', 'x-backend', 'x-idp',
];

const ID = /^[A-Za-z0-9_-]{1,64}$/;
/** A credential name: `<connection>/<backend>`, or a bare backend id (see credentialFor). */
const CREDENTIAL_NAME = /^([A-Za-z0-9_-]{1,64}\/)?[A-Za-z0-9_-]{1,64}$/;
const HEADER = /^[a-z0-9-]+$/;

const instant = z.iso.datetime({ offset: true, message: 'expected an RFC 3339 date-time with offset' }).transform((s) => Date.parse(s));
const posInt = (max: number) => z.number().int().min(1).max(max);
const pathList = z.array(z.string().regex(/^\/[\x21-\x7e]*$/, 'expected an exact path starting with "/" (printable ASCII, no query)').refine((p) => !/[?#;%]/.test(p), 'a route is an exact path without ?, #, ; or %')).default([]);
const stage = z.enum(STAGES as [Stage, ...Stage[]], { message: `expected one of ${STAGES.join('|')}` });

/** Builds the schema for one load: secret references resolve against this file's directory/env. */
export function registrySchema(ctx: SecretContext) {
  const secret = z.string().min(1).transform((s, c) => {
    const r = resolveSecret(s, ctx);
    if (!r.ok) {
      c.addIssue({ code: 'custom', message: r.message });
      return z.NEVER;
    }
    return r.value;
  });
  const key = secret.pipe(
    z.string()
      .regex(/^[A-Za-z0-9_-]+$/, 'expected a base64url key')
      .refine((v) => Buffer.from(v, 'base64url').length >= 16, 'key must decode to at least 16 bytes'),
  );

  const backend = z.strictObject({
    id: z.string().regex(ID, 'expected an id of [A-Za-z0-9_-], 1..64 chars'),
    role: z.enum(['legacy', 'new'], { message: 'expected one of legacy|new' }),
    cluster: z.string().min(1),
    address: z.string().regex(/^[^\s/]+:\d{1,5}$/, 'expected host:port').optional(),
    issuer: z.string().min(1),
    saml_entity_id: z.string().min(1).optional(),
    iss_parameter_supported: z.boolean().default(false),
    retire_tokens_at: instant.optional(),
  });

  const webhook = z.strictObject({
    scheme: z.enum(['standard', 'github'], { message: 'expected one of standard|github' }),
    secrets: z.array(z.strictObject({ id: z.string().min(1), secret, retire_at: instant.optional(), tenant: z.string().min(1).optional() })).min(1),
    tolerance_s: posInt(3600).default(300),
    source_cidrs: z.array(z.union([z.cidrv4(), z.cidrv6(), z.ipv4(), z.ipv6()], { message: 'expected an IP address or CIDR' })).optional(),
  });

  // -- lifecycle (docs/stages.md): admin tokens, the SLO guard, freeze windows, removal thresholds
  const adminToken = z.strictObject({
    name: z.string().regex(ID, 'expected a name of [A-Za-z0-9_-], 1..64 chars'),
    token: secret.pipe(z.string().min(16, 'admin tokens need at least 16 characters')),
    role: z.enum(ADMIN_ROLES as [AdminRole, ...AdminRole[]], { message: `expected one of ${ADMIN_ROLES.join('|')}` }),
  });
  const guard = z.strictObject({
    deny_ratio: z.number().gt(0, 'expected a fraction in (0, 1)').lt(1, 'expected a fraction in (0, 1)'),
    window_s: posInt(86400).default(300),
    min_callbacks: posInt(1_000_000).default(50),
    reasons: z.array(z.string().refine(isReasonCode, 'expected a reason code (docs/reason-codes.md)')).min(1)
      .default(['state_unknown', 'state_expired', 'issuer_mismatch', 'iss_required', 'token_invalid', 'kid_unknown', 'backend_not_live', 'policy_error', 'internal_error']),
  });
  const lifecycle = z.strictObject({
    freeze_windows: z.array(z.strictObject({
      start: instant,
      end: instant,
      reason: z.string().min(1),
      connections: z.array(z.string().regex(ID)).min(1).optional(),
    }).refine((w) => w.end > w.start, { message: 'end must be after start', path: ['end'] })).default([]),
    removal: z.strictObject({
      quiet_s: z.number().int().min(0).max(366 * 86400).default(DEFAULT_REMOVAL.quiet_s),
      unused_mapping_days: posInt(3660).default(DEFAULT_REMOVAL.unused_mapping_days),
    }).prefault({}),
  });

  const connection = z.strictObject({
    name: z.string().regex(ID, 'expected a name of [A-Za-z0-9_-], 1..64 chars'),
    hosts: z.array(z.string().min(1).transform((h) => h.toLowerCase()).refine((h) => /^[a-z0-9.-]+(:\d{1,5})?$/.test(h), 'expected host[:port] (no scheme, no default port)')).min(1),
    client_ids: z.array(z.string().min(1)).default([]),
    routes: z.strictObject({
      oauth_callback: pathList, saml_acs: pathList, login_start: pathList, webhook: pathList, logout: pathList, agent: pathList,
    }),
    backends: z.array(backend).min(2),
    stage,
    canary_percent: z.number().min(0, 'expected 0..100').max(100, 'expected 0..100').default(0),
    // Only facts the caller cannot choose (docs/threat-model.md): a caller-chosen value (login_hint, a
    // state, an address it can vary) would let it search for the cohort it wants.
    cohort_key: z.enum(['client_id', 'random'], {
      message: 'expected one of client_id|random (login_hint, source_ip and session are chosen by the caller and cannot pick a cohort)',
    }).default('client_id'),
    drain_until: instant.optional(),
    sunset_at: instant.optional(),
    require_pin: z.boolean().default(true),
    pin_ttl_s: posInt(86400).default(600),
    idp_initiated_saml: z.array(z.strictObject({ issuer: z.string().min(1), acs: z.string().startsWith('/') })).default([]),
    return_params: z.array(z.string().min(1)).default([]),
    allowed_params: z.array(z.string().min(1)).default([]),
    webhook: webhook.optional(),
    tenant: z.string().min(1).optional(),
    // -- lifecycle (docs/stages.md)
    require_approval: z.boolean().default(false),
    guard: guard.optional(),
  });

  const jwk = z.record(z.string(), z.unknown()).refine((k) => typeof k.kty === 'string', 'a JWK needs kty')
    .refine((k) => k.d === undefined && k.p === undefined && k.k === undefined, 'inline JWKS must hold public keys only');
  const issuer = z.strictObject({
    issuer: z.string().min(1),
    backend: z.string().regex(ID),
    jwks_uri: z.url({ protocol: /^https?$/, message: 'expected an http(s) URL' }).optional(),
    jwks: z.strictObject({ keys: z.array(jwk).min(1) }).optional(),
    algs: z.array(z.string().regex(/^(RS|PS|ES)(256|384|512)$|^EdDSA$|^Ed25519$/, 'expected an asymmetric JWS alg (RS/PS/ES 256..512, EdDSA)')).min(1),
    audiences: z.array(z.string().min(1)).default([]),
    typ: z.strictObject({ id_token: z.string().optional(), access_token: z.string().optional(), logout_token: z.string().optional() }).optional(),
    allow_untyped_access_tokens: z.boolean().optional(),
    max_token_age_s: z.strictObject({ id_token: posInt(7 * 86400).optional(), access_token: posInt(30 * 86400).optional(), logout_token: posInt(7 * 86400).optional() }).optional(),
    clock_skew_s: z.number().int().min(0).max(600).default(60),
    tenants: z.array(z.string().min(1)).optional(),
  });

  return z.strictObject({
    version: z.literal(1, { message: 'expected version: 1' }),
    connections: z.array(connection).min(1),
    issuers: z.array(issuer).default([]),
    keys: z.strictObject({
      hash_key: key,
      state_keys: z.record(z.string().regex(CREDENTIAL_NAME, 'expected <connection>/<backend> or <backend>'), key).default({}),
      cookie_key: key,
      pin_api_tokens: z.record(z.string().regex(CREDENTIAL_NAME, 'expected <connection>/<backend> or <backend>'), secret.pipe(z.string().min(16, 'pin API tokens need at least 16 characters'))).default({}),
      admin_tokens: z.array(adminToken).default([]),
    }),
    limits: z.strictObject({
      max_params: posInt(1000).default(DEFAULT_LIMITS.max_params),
      max_state_bytes: posInt(8192).default(DEFAULT_LIMITS.max_state_bytes),
      max_code_bytes: posInt(65536).default(DEFAULT_LIMITS.max_code_bytes),
      max_relay_state_bytes: posInt(1024).default(DEFAULT_LIMITS.max_relay_state_bytes),
      max_token_bytes: posInt(1 << 20).default(DEFAULT_LIMITS.max_token_bytes),
      max_body_bytes: posInt(1 << 24).default(DEFAULT_LIMITS.max_body_bytes),
      max_state_markers: posInt(100_000_000).default(DEFAULT_LIMITS.max_state_markers),
      max_code_markers: posInt(100_000_000).default(DEFAULT_LIMITS.max_code_markers),
      max_webhook_markers: posInt(100_000_000).default(DEFAULT_LIMITS.max_webhook_markers),
      max_jti_markers: posInt(100_000_000).default(DEFAULT_LIMITS.max_jti_markers),
      max_pins: posInt(100_000_000).default(DEFAULT_LIMITS.max_pins),
      unknown_states_per_source_per_min: posInt(1_000_000).default(DEFAULT_LIMITS.unknown_states_per_source_per_min),
      unknown_states_per_connection_per_min: posInt(100_000_000).default(DEFAULT_LIMITS.unknown_states_per_connection_per_min),
      max_limited_sources: posInt(10_000_000).default(DEFAULT_LIMITS.max_limited_sources),
    }).prefault({}),
    routing_header: z.string().regex(HEADER, 'expected a lower-case header name').default(DEFAULT_ROUTING_HEADER),
    strip_headers: z.array(z.string().regex(HEADER, 'expected lower-case header names')).default(DEFAULT_STRIP_HEADERS),
    lifecycle: lifecycle.prefault({}),
  }).superRefine((reg, c) => crossCheck(reg as RegistryConfig, c));
}

type Ctx = z.RefinementCtx;

/** Rules that span fields; each issue carries the path of the field at fault. */
function crossCheck(reg: RegistryConfig, c: Ctx): void {
  const issue = (path: (string | number)[], message: string): void => c.addIssue({ code: 'custom', path, message });
  const hostOwner = new Map<string, string>();
  const names = new Set<string>();
  const backendIds = new Set<string>();
  reg.connections.forEach((conn, ci) => {
    if (names.has(conn.name)) issue(['connections', ci, 'name'], `duplicate connection name ${conn.name}`);
    names.add(conn.name);
    conn.hosts.forEach((h, hi) => {
      if (/:(443|80)$/.test(h)) issue(['connections', ci, 'hosts', hi], 'drop the default port (hosts are matched after normalisation)');
      const owner = hostOwner.get(h);
      if (owner !== undefined) issue(['connections', ci, 'hosts', hi], `host ${h} already belongs to connection ${owner}`);
      hostOwner.set(h, conn.name);
    });
    const legacy = conn.backends.filter((b) => b.role === 'legacy').length;
    const neu = conn.backends.filter((b) => b.role === 'new').length;
    if (legacy !== 1 || neu !== 1 || conn.backends.length !== 2) issue(['connections', ci, 'backends'], 'expected exactly one legacy and one new backend');
    const ids = new Set<string>();
    conn.backends.forEach((b, bi) => {
      if (ids.has(b.id)) issue(['connections', ci, 'backends', bi, 'id'], `duplicate backend id ${b.id}`);
      ids.add(b.id);
      backendIds.add(b.id);
    });
    const seen = new Map<string, string>();
    for (const kind of Object.keys(conn.routes) as (keyof typeof conn.routes)[]) {
      conn.routes[kind].forEach((p, pi) => {
        const other = seen.get(p);
        if (other !== undefined) issue(['connections', ci, 'routes', kind, pi], `path ${p} is already a ${other} route`);
        seen.set(p, kind);
      });
    }
    if (conn.routes.webhook.length > 0 && !conn.webhook) issue(['connections', ci, 'webhook'], 'webhook routes need a webhook section (secrets)');
    if (conn.stage === 'canary' && conn.canary_percent === 0) issue(['connections', ci, 'canary_percent'], 'canary with 0 % sends no traffic to new; use observe/shadow');
    if (conn.stage === 'canary' && conn.cohort_key === 'client_id' && conn.client_ids.length === 0) {
      issue(['connections', ci, 'client_ids'], 'a canary keyed by client_id needs registered client_ids (or cohort_key: random)');
    }
  });
  reg.issuers.forEach((iss, ii) => {
    if (!backendIds.has(iss.backend)) issue(['issuers', ii, 'backend'], `no connection has a backend ${iss.backend}`);
    if ((iss.jwks === undefined) === (iss.jwks_uri === undefined)) issue(['issuers', ii], 'expected exactly one of jwks or jwks_uri');
  });
  const issuerNames = new Set<string>();
  reg.issuers.forEach((iss, ii) => {
    if (issuerNames.has(iss.issuer)) issue(['issuers', ii, 'issuer'], 'duplicate issuer');
    issuerNames.add(iss.issuer);
  });
  checkCredentials(reg, 'state_keys', issue);
  checkCredentials(reg, 'pin_api_tokens', issue);
  lifecycleCheck(reg, issue, names);
}

/**
 * Credentials are scoped by connection AND backend (docs/threat-model.md, pins): every name resolves to
 * a backend of a connection; a bare backend id is allowed only when that id belongs to one connection;
 * and no credential value serves two connections (one token must never pin flows on both).
 */
function checkCredentials(reg: RegistryConfig, field: 'state_keys' | 'pin_api_tokens', issue: (path: (string | number)[], message: string) => void): void {
  const map = reg.keys[field];
  const owners = new Map<string, string[]>(); // backend id → connections that have it
  for (const conn of reg.connections) {
    for (const b of conn.backends) owners.set(b.id, [...(owners.get(b.id) ?? []), conn.name]);
  }
  for (const name of Object.keys(map)) {
    const slash = name.indexOf('/');
    if (slash >= 0) {
      const conn = reg.connections.find((c) => c.name === name.slice(0, slash));
      const backend = name.slice(slash + 1);
      if (!conn) issue(['keys', field, name], `no connection ${name.slice(0, slash)}`);
      else if (!conn.backends.some((b) => b.id === backend)) issue(['keys', field, name], `connection ${conn.name} has no backend ${backend}`);
      continue;
    }
    const conns = owners.get(name) ?? [];
    if (conns.length === 0) issue(['keys', field, name], `no connection has a backend ${name}`);
    else if (conns.length > 1) {
      issue(['keys', field, name], `backend id ${name} belongs to connections ${conns.join(', ')}: name each credential <connection>/${name}, with distinct values`);
    } else if (Object.prototype.hasOwnProperty.call(map, `${conns[0]}/${name}`)) {
      issue(['keys', field, name], `both ${name} and ${conns[0]}/${name} are given; keep one`);
    }
  }
  // One value, one connection: compare what each (connection, backend) resolves to.
  const firstUse = new Map<string, { conn: string; name: string }>();
  for (const conn of reg.connections) {
    for (const b of conn.backends) {
      const value = credentialFor(map, conn.name, b.id);
      if (value === undefined) continue;
      const name = Object.prototype.hasOwnProperty.call(map, `${conn.name}/${b.id}`) ? `${conn.name}/${b.id}` : b.id;
      const prev = firstUse.get(value);
      if (prev && prev.conn !== conn.name) {
        issue(['keys', field, name], `the same value as ${prev.name} of connection ${prev.conn}: a credential may serve one connection only`);
      } else if (!prev) firstUse.set(value, { conn: conn.name, name });
    }
  }
}

/** Lifecycle rules that span fields (docs/stages.md): unique admin token names and values, known connections. */
function lifecycleCheck(reg: RegistryConfig, issue: (path: (string | number)[], message: string) => void, names: ReadonlySet<string>): void {
  const tokenNames = new Set<string>();
  const tokenValues = new Set<string>(Object.values(reg.keys.pin_api_tokens));
  (reg.keys.admin_tokens ?? []).forEach((t, ti) => {
    if (tokenNames.has(t.name)) issue(['keys', 'admin_tokens', ti, 'name'], `duplicate admin token name ${t.name}`);
    tokenNames.add(t.name);
    // A shared value would make the actor ambiguous, and a Pin API token must never open the admin API.
    if (tokenValues.has(t.token)) issue(['keys', 'admin_tokens', ti, 'token'], 'admin tokens must be distinct from each other and from the Pin API tokens');
    tokenValues.add(t.token);
  });
  (reg.lifecycle?.freeze_windows ?? []).forEach((w, wi) => {
    (w.connections ?? []).forEach((c, i) => {
      if (!names.has(c)) issue(['lifecycle', 'freeze_windows', wi, 'connections', i], `no connection is named ${c}`);
    });
  });
}
