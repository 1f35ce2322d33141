// Our rules for a callback-proxy Envoy config, on top of the schema check: fail-closed ext_authz,
// whole-body buffering for form_post/SAML, edge path/header normalisation, no query strings in access
// logs, access logs that read only metadata keys the service emits, loopback admin, and routes that only
// forward on the routing header (docs/threat-model.md §5, §6, §8, T-X4).
import { DYNAMIC_METADATA_KEYS, ENVOY_EXT_AUTHZ_METADATA_KEYS, EXT_AUTHZ_METADATA_NAMESPACE } from '../model/dynamic-metadata';
import { DEFAULT_ROUTING_HEADER } from '../model/registry';

export interface LintFinding {
  code: LintCode;
  path: string;
  message: string;
}

export type LintCode =
  | 'no_http_connection_manager'
  | 'ext_authz_missing'
  | 'ext_authz_fail_open'
  | 'ext_authz_not_v3'
  | 'ext_authz_no_service'
  | 'ext_authz_timeout'
  | 'ext_authz_partial_body'
  | 'ext_authz_body_missing'
  | 'ext_authz_body_too_small'
  | 'ext_authz_no_clear_route_cache'
  | 'ext_authz_after_router'
  | 'ext_authz_unknown_cluster'
  | 'hcm_normalize_path'
  | 'hcm_merge_slashes'
  | 'hcm_escaped_slashes'
  | 'hcm_underscore_headers'
  | 'hcm_remote_address'
  | 'hcm_headers_limit'
  | 'hcm_timeouts'
  | 'access_log_query'
  | 'access_log_unknown_metadata'
  | 'admin_not_loopback'
  | 'route_unknown_cluster'
  | 'route_without_routing_header';

export interface LintOptions {
  routingHeader?: string;
  /** Smallest with_request_body.max_request_bytes accepted (SAML POST bodies run to tens of KiB). */
  minBodyBytes?: number;
  /** Largest ext_authz timeout accepted, seconds. */
  maxTimeoutS?: number;
}

const HCM = 'envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
const EXT_AUTHZ = 'envoy.extensions.filters.http.ext_authz.v3.ExtAuthz';
const ROUTER = 'envoy.extensions.filters.http.router.v3.Router';
type Obj = Record<string, unknown>;

export function lintEnvoyConfig(cfg: unknown, opts: LintOptions = {}): LintFinding[] {
  const header = (opts.routingHeader ?? DEFAULT_ROUTING_HEADER).toLowerCase();
  const minBody = opts.minBodyBytes ?? 65536;
  const maxTimeout = opts.maxTimeoutS ?? 1;
  const out: LintFinding[] = [];
  const root = asObj(cfg);
  const statics = asObj(root.static_resources);
  const clusters = new Set(asArr(statics.clusters).map((c) => String(asObj(c).name)));

  const adminAddr = asObj(asObj(asObj(root.admin).address).socket_address).address;
  if (root.admin !== undefined && adminAddr !== undefined && !isLoopback(String(adminAddr))) {
    out.push({ code: 'admin_not_loopback', path: 'admin.address', message: `admin listens on ${String(adminAddr)}; bind it to 127.0.0.1` });
  }

  let hcmCount = 0;
  asArr(statics.listeners).forEach((l, li) => {
    asArr(asObj(l).filter_chains).forEach((fc, fi) => {
      asArr(asObj(fc).filters).forEach((f, ni) => {
        const tc = asObj(asObj(f).typed_config);
        if (typeName(tc) !== HCM) return;
        hcmCount++;
        const p = `static_resources.listeners[${li}].filter_chains[${fi}].filters[${ni}].typed_config`;
        lintHcm(tc, p, out);
        lintFilters(tc, p, clusters, { minBody, maxTimeout }, out);
        lintRoutes(tc, p, clusters, header, out);
        lintAccessLogs(tc, p, out);
      });
    });
  });
  if (hcmCount === 0) {
    out.push({ code: 'no_http_connection_manager', path: 'static_resources.listeners', message: 'no listener has an HTTP connection manager' });
  }
  return out;
}

function lintHcm(h: Obj, p: string, out: LintFinding[]): void {
  if (bool(h.normalize_path) !== true) out.push({ code: 'hcm_normalize_path', path: `${p}.normalize_path`, message: 'normalize_path must be true (RFC 3986 dot-segment removal before routing and authz)' });
  if (bool(h.merge_slashes) !== true) out.push({ code: 'hcm_merge_slashes', path: `${p}.merge_slashes`, message: 'merge_slashes must be true (//cb must match /cb, threat model T-P5)' });
  const esc = h.path_with_escaped_slashes_action;
  if (esc !== 'REJECT_REQUEST' && esc !== 'UNESCAPE_AND_REDIRECT') {
    out.push({ code: 'hcm_escaped_slashes', path: `${p}.path_with_escaped_slashes_action`, message: 'path_with_escaped_slashes_action must be REJECT_REQUEST or UNESCAPE_AND_REDIRECT (threat model T-P2)' });
  }
  const under = asObj(h.common_http_protocol_options).headers_with_underscores_action;
  if (under !== 'REJECT_REQUEST') {
    out.push({ code: 'hcm_underscore_headers', path: `${p}.common_http_protocol_options.headers_with_underscores_action`, message: 'headers_with_underscores_action must be REJECT_REQUEST (threat model T-H7)' });
  }
  if (bool(h.use_remote_address) !== true) {
    out.push({ code: 'hcm_remote_address', path: `${p}.use_remote_address`, message: 'use_remote_address must be true so the client address comes from the connection, not X-Forwarded-For (T-H6)' });
  }
  // Slow-loris bodies and idle streams must end at Envoy (threat model T-Z5); 0s disables a timeout.
  for (const k of ['request_timeout', 'stream_idle_timeout'] as const) {
    const t = seconds(h[k]);
    if (t === undefined || t <= 0) {
      out.push({ code: 'hcm_timeouts', path: `${p}.${k}`, message: `${k} must be set to a non-zero duration (T-Z5: slow-loris callbacks)` });
    }
  }
  const kb = h.max_request_headers_kb;
  if (typeof kb === 'number' && kb > 96) {
    out.push({ code: 'hcm_headers_limit', path: `${p}.max_request_headers_kb`, message: `max_request_headers_kb ${kb} is above 96 (T-Z1)` });
  }
}

function lintFilters(h: Obj, p: string, clusters: Set<string>, lim: { minBody: number; maxTimeout: number }, out: LintFinding[]): void {
  const filters = asArr(h.http_filters).map((f) => asObj(f));
  const ai = filters.findIndex((f) => typeName(asObj(f.typed_config)) === EXT_AUTHZ);
  const ri = filters.findIndex((f) => typeName(asObj(f.typed_config)) === ROUTER);
  if (ai < 0) {
    out.push({ code: 'ext_authz_missing', path: `${p}.http_filters`, message: 'no envoy.filters.http.ext_authz filter: callbacks would be forwarded unchecked' });
    return;
  }
  const fp = `${p}.http_filters[${ai}].typed_config`;
  if (ri >= 0 && ri < ai) out.push({ code: 'ext_authz_after_router', path: fp, message: 'ext_authz must come before the router filter' });
  const a = asObj(filters[ai].typed_config);
  if (bool(a.failure_mode_allow) !== false) {
    out.push({ code: 'ext_authz_fail_open', path: `${fp}.failure_mode_allow`, message: 'failure_mode_allow must be false: ext-authz down must mean deny (T-X4)' });
  }
  if (a.transport_api_version !== 'V3') out.push({ code: 'ext_authz_not_v3', path: `${fp}.transport_api_version`, message: 'transport_api_version must be V3' });
  const gs = asObj(a.grpc_service);
  const hs = asObj(a.http_service);
  if (!a.grpc_service && !a.http_service) {
    out.push({ code: 'ext_authz_no_service', path: fp, message: 'ext_authz needs grpc_service or http_service' });
  }
  const cluster = asObj(gs.envoy_grpc).cluster_name ?? asObj(asObj(hs.server_uri)).cluster;
  if (cluster !== undefined && !clusters.has(String(cluster))) {
    out.push({ code: 'ext_authz_unknown_cluster', path: fp, message: `ext_authz points at cluster "${String(cluster)}", which is not defined` });
  }
  const timeout = seconds(gs.timeout ?? asObj(hs.server_uri).timeout);
  if (timeout === undefined || timeout > lim.maxTimeout) {
    out.push({ code: 'ext_authz_timeout', path: `${fp}.grpc_service.timeout`, message: `set an ext_authz timeout of at most ${lim.maxTimeout}s (200 ms is the usual choice)` });
  }
  const body = a.with_request_body === undefined ? undefined : asObj(a.with_request_body);
  if (!body) {
    out.push({ code: 'ext_authz_body_missing', path: `${fp}.with_request_body`, message: 'with_request_body is needed to check form_post and SAML POST callbacks' });
  } else {
    if (bool(body.allow_partial_message) !== false) {
      out.push({ code: 'ext_authz_partial_body', path: `${fp}.with_request_body.allow_partial_message`, message: 'allow_partial_message must be false: a truncated body can hide a second SAMLResponse (T-Z3, config_violation)' });
    }
    const max = Number(body.max_request_bytes ?? 0);
    if (!(max >= lim.minBody)) {
      out.push({ code: 'ext_authz_body_too_small', path: `${fp}.with_request_body.max_request_bytes`, message: `max_request_bytes must be at least ${lim.minBody} for SAML POST` });
    }
  }
  if (bool(a.clear_route_cache) !== true) {
    out.push({ code: 'ext_authz_no_clear_route_cache', path: `${fp}.clear_route_cache`, message: 'clear_route_cache must be true: routes are chosen by the header ext-authz sets' });
  }
}

function lintRoutes(h: Obj, p: string, clusters: Set<string>, header: string, out: LintFinding[]): void {
  const rc = asObj(h.route_config);
  asArr(rc.virtual_hosts).forEach((vh, vi) => {
    asArr(asObj(vh).routes).forEach((r, ri) => {
      const route = asObj(asObj(r).route);
      const rp = `${p}.route_config.virtual_hosts[${vi}].routes[${ri}]`;
      if (route.cluster === undefined) return;
      if (!clusters.has(String(route.cluster))) {
        out.push({ code: 'route_unknown_cluster', path: `${rp}.route.cluster`, message: `route forwards to undefined cluster "${String(route.cluster)}"` });
      }
      const headers = asArr(asObj(asObj(r).match).headers).map((x) => asObj(x));
      const routed = headers.some((x) => String(x.name).toLowerCase() === header && (asObj(x.string_match).exact !== undefined || x.exact_match !== undefined));
      if (!routed) {
        out.push({ code: 'route_without_routing_header', path: `${rp}.match`, message: `route to "${String(route.cluster)}" does not require an exact ${header} match; it would forward without a decision` });
      }
    });
  });
}

function lintAccessLogs(h: Obj, p: string, out: LintFinding[]): void {
  asArr(h.access_log).forEach((al, i) => {
    const tc = asObj(asObj(al).typed_config);
    const fmt = asObj(tc.log_format);
    const lp = `${p}.access_log[${i}]`;
    if (tc.log_format === undefined && tc.format === undefined && tc.json_format === undefined) {
      out.push({ code: 'access_log_query', path: lp, message: "the default access log format includes the path with its query string; set a log_format using %REQ_WITHOUT_QUERY(...)%" });
      return;
    }
    const texts: string[] = [];
    collectStrings(fmt.text_format_source ?? fmt.text_format, texts);
    collectStrings(fmt.json_format, texts);
    collectStrings(tc.format, texts);
    for (const t of texts) {
      if (/%REQ\([^)]*PATH[^)]*\)%/i.test(t) || /%PATH(\((?![^)]*WQ)[^)]*\))?%/.test(t)) {
        out.push({ code: 'access_log_query', path: lp, message: 'access log format logs the path with its query string (codes and states); use %REQ_WITHOUT_QUERY(:PATH)% or %PATH(WQ)%' });
        break;
      }
    }
    for (const key of extAuthzMetadataKeys(texts)) {
      if (KNOWN_METADATA_KEYS.has(key)) continue;
      out.push({
        code: 'access_log_unknown_metadata',
        path: lp,
        message: `access log reads ${EXT_AUTHZ_METADATA_NAMESPACE}:${key}, which callback-proxy never sets (it sets ${DYNAMIC_METADATA_KEYS.join(', ')}; Envoy adds ${ENVOY_EXT_AUTHZ_METADATA_KEYS.join(', ')}): the field would always be empty`,
      });
    }
  });
}

/** What the service emits plus what Envoy's ext_authz filter adds itself. */
const KNOWN_METADATA_KEYS: ReadonlySet<string> = new Set<string>([...DYNAMIC_METADATA_KEYS, ...ENVOY_EXT_AUTHZ_METADATA_KEYS]);

/**
 * The first path element of every ext_authz-namespace metadata read in these format strings, in both
 * command forms: %DYNAMIC_METADATA(ns:key[:sub…])% and %METADATA(DYNAMIC:ns:key[:sub…])%. A read of the
 * whole namespace (no key) names no key.
 */
export function extAuthzMetadataKeys(texts: string[]): string[] {
  const keys: string[] = [];
  const re = /%(?:DYNAMIC_METADATA\(|METADATA\(DYNAMIC:)([^)%]*)\)/g;
  for (const t of texts) {
    for (const m of t.matchAll(re)) {
      const [ns, key] = m[1].split(':');
      if (ns === EXT_AUTHZ_METADATA_NAMESPACE && key !== undefined && key !== '' && !keys.includes(key)) keys.push(key);
    }
  }
  return keys;
}

// ---- small readers ------------------------------------------------------------------------------
function asObj(v: unknown): Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : {};
}
function asArr(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}
function typeName(tc: Obj): string {
  const t = tc['@type'];
  return typeof t === 'string' ? t.slice(t.lastIndexOf('/') + 1) : '';
}
/** BoolValue fields may appear as `true` or `{value: true}`; absent means the proto default. */
function bool(v: unknown): boolean | undefined {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'object' && v !== null && typeof (v as Obj).value === 'boolean') return (v as Obj).value as boolean;
  return v === undefined ? false : undefined;
}
function seconds(v: unknown): number | undefined {
  if (typeof v === 'string' && /^\d+(\.\d+)?s$/.test(v)) return Number(v.slice(0, -1));
  if (typeof v === 'object' && v !== null) return Number((v as Obj).seconds ?? 0) + Number((v as Obj).nanos ?? 0) / 1e9;
  return undefined;
}
function isLoopback(a: string): boolean {
  return a === '::1' || a === 'localhost' || /^127\./.test(a);
}
function collectStrings(v: unknown, acc: string[]): void {
  if (typeof v === 'string') acc.push(v);
  else if (Array.isArray(v)) v.forEach((x) => collectStrings(x, acc));
  else if (typeof v === 'object' && v !== null) Object.values(v).forEach((x) => collectStrings(x, acc));
}
