// OPA's configuration file (`serve --opa-config opa.yaml`), the subset this service implements:
// `services`, `bundles`, `keys`, `decision_logs`, `labels`, `default_decision` and
// `plugins.envoy_ext_authz_grpc`. `${VAR}` is replaced in the file text before parsing, as OPA does
// (an unset variable becomes the empty string, and is reported). Keys we do not implement are not
// ignored silently: each becomes a warning with its path. Errors name the field. The environment is a
// parameter: nothing here reads process state.
import { errnoCode } from '../model/errors';
import fs from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ConfigError, formatPath } from './registry-errors';
import type { ConfigIssue } from './registry-errors';
import {
  DEFAULT_DECISION_LOG_REPORTING, DEFAULT_ENVOY_PLUGIN, DEFAULT_POLLING, opaConfigSchema, SIGNING_ALGORITHMS,
} from './opa-config-schema';
import type { RawOpaConfig } from './opa-config-schema';

export interface OpaServiceCredentials {
  bearer?: { token?: string; tokenPath?: string; scheme: string };
  clientTls?: { cert: string; privateKey: string; privateKeyPassphrase?: string };
  oauth2?: {
    tokenUrl: string;
    clientId: string;
    clientSecret: string;
    scopes: string[];
    additionalHeaders: Record<string, string>;
    additionalParameters: Record<string, string>;
  };
}

export interface OpaServiceConfig {
  name: string;
  url: string;
  headers: Record<string, string>;
  responseHeaderTimeoutSeconds: number;
  tls: { caCert?: string };
  allowInsecureTls: boolean;
  credentials: OpaServiceCredentials;
}

export interface OpaKeyConfig {
  /** PEM public key or HMAC secret. */
  key?: string;
  privateKey?: string;
  algorithm: string;
  scope?: string;
}

export interface OpaPollingConfig {
  minDelaySeconds: number;
  maxDelaySeconds: number;
  longPollingTimeoutSeconds?: number;
}

export interface OpaBundleConfig {
  name: string;
  /** The service to download from; absent for a `file://` resource. */
  service?: string;
  /** Path under the service URL (default `bundles/<name>`), or a `file://` URL. */
  resource: string;
  polling: OpaPollingConfig;
  signing?: { keyId?: string; scope?: string; excludeFiles: string[] };
  sizeLimitBytes?: number;
  persist: boolean;
}

export interface OpaDecisionLogsConfig {
  console: boolean;
  /** Upload target; absent when only console logging is configured. */
  service?: string;
  resource: string;
  maskDecision: string;
  dropDecision: string;
  reporting: {
    bufferType: 'size' | 'event';
    bufferSizeLimitBytes?: number;
    bufferSizeLimitEvents: number;
    uploadSizeLimitBytes: number;
    minDelaySeconds: number;
    maxDelaySeconds: number;
    maxDecisionsPerSecond?: number;
  };
}

export interface EnvoyExtAuthzGrpcConfig {
  addr: string;
  /** Decision path in slash form (`envoy/authz/allow`). */
  path: string;
  dryRun: boolean;
  enableReflection: boolean;
  skipRequestBodyParse: boolean;
  grpcMaxRecvMsgSize?: number;
  grpcMaxSendMsgSize?: number;
}

export interface OpaConfig {
  services: Record<string, OpaServiceConfig>;
  bundles: Record<string, OpaBundleConfig>;
  keys: Record<string, OpaKeyConfig>;
  decisionLogs: OpaDecisionLogsConfig | null;
  labels: Record<string, string>;
  defaultDecision: string;
  plugins: { envoyExtAuthzGrpc: EnvoyExtAuthzGrpcConfig | null };
}

export interface OpaConfigWarning {
  /** JSON path of the key, e.g. `services.acme.credentials.s3_signing`. */
  path: string;
  message: string;
}

export interface ParsedOpaConfig {
  config: OpaConfig;
  warnings: OpaConfigWarning[];
}

export type EnvMap = Readonly<Record<string, string | undefined>>;

/** OPA top-level sections this service accepts but does not act on. */
const IGNORED_SECTIONS = new Set(['status', 'discovery', 'caching', 'distributed_tracing', 'server', 'persistence_directory', 'storage', 'nd_builtin_cache', 'extra']);

/** `${NAME}` → env value (OPA: non-greedy, unset → ''). Returns the text and the unset names. */
export function substituteEnv(text: string, env: EnvMap): { text: string; unset: string[] } {
  const unset: string[] = [];
  const out = text.replace(/\$\{([^}\n]*)\}/g, (_m, name: string) => {
    const v = env[name];
    if (v === undefined) {
      if (!unset.includes(name)) unset.push(name);
      return '';
    }
    return v;
  });
  return { text: out, unset };
}

/** Deletes `keys` at `path` inside `root` (to re-validate after unknown keys became warnings). */
function dropKeys(root: unknown, path: PropertyKey[], keys: string[]): void {
  let node: unknown = root;
  for (const p of path) {
    if (typeof node !== 'object' || node === null) return;
    node = (node as Record<PropertyKey, unknown>)[p];
  }
  if (typeof node === 'object' && node !== null) for (const k of keys) delete (node as Record<string, unknown>)[k];
}

function unknownKeyMessage(path: string, key: string): string {
  if (path === '' && IGNORED_SECTIONS.has(key)) return `OPA setting "${key}" is not supported by this service and is ignored`;
  if (path === 'plugins') return `plugin "${key}" is not available here and is ignored (only envoy_ext_authz_grpc is)`;
  return `unknown key "${key}" is ignored`;
}

/** Services may be an object keyed by name or an array of `{name, ...}` (OPA accepts both). */
function servicesAsObject(raw: Record<string, unknown>, issues: ConfigIssue[]): void {
  const s = raw.services;
  if (!Array.isArray(s)) return;
  const obj: Record<string, unknown> = {};
  s.forEach((item, i) => {
    const name = typeof item === 'object' && item !== null ? (item as Record<string, unknown>).name : undefined;
    if (typeof name !== 'string' || name === '') issues.push({ path: `services[${i}].name`, message: 'a service in a list needs a name' });
    else if (name in obj) issues.push({ path: `services[${i}].name`, message: `service "${name}" is defined twice` });
    else obj[name] = item;
  });
  raw.services = obj;
}

function build(raw: RawOpaConfig, issues: ConfigIssue[]): OpaConfig {
  const services: Record<string, OpaServiceConfig> = {};
  for (const [name, s] of Object.entries(raw.services ?? {})) {
    const c = s.credentials ?? {};
    const credentials: OpaServiceCredentials = {};
    if (c.bearer) credentials.bearer = { token: c.bearer.token, tokenPath: c.bearer.token_path, scheme: c.bearer.scheme ?? 'Bearer' };
    if (c.client_tls) credentials.clientTls = { cert: c.client_tls.cert, privateKey: c.client_tls.private_key, privateKeyPassphrase: c.client_tls.private_key_passphrase };
    if (c.oauth2) {
      credentials.oauth2 = {
        tokenUrl: c.oauth2.token_url,
        clientId: c.oauth2.client_id,
        clientSecret: c.oauth2.client_secret,
        scopes: c.oauth2.scopes ?? [],
        additionalHeaders: c.oauth2.additional_headers ?? {},
        additionalParameters: c.oauth2.additional_parameters ?? {},
      };
    }
    services[name] = {
      name,
      url: s.url.replace(/\/+$/, ''),
      headers: s.headers ?? {},
      responseHeaderTimeoutSeconds: s.response_header_timeout_seconds ?? 10,
      tls: { caCert: s.tls?.ca_cert },
      allowInsecureTls: s.allow_insecure_tls ?? false,
      credentials,
    };
  }
  const serviceNames = Object.keys(services);

  const keys: Record<string, OpaKeyConfig> = {};
  for (const [name, k] of Object.entries(raw.keys ?? {})) {
    keys[name] = { key: k.key, privateKey: k.private_key, algorithm: k.algorithm ?? 'RS256', scope: k.scope };
  }

  const bundles: Record<string, OpaBundleConfig> = {};
  for (const [name, b] of Object.entries(raw.bundles ?? {})) {
    const at = `bundles.${name}`;
    const resource = b.resource ?? `bundles/${name}`;
    let service = b.service;
    if (service === undefined && !resource.startsWith('file://')) {
      if (serviceNames.length === 1) service = serviceNames[0];
      else issues.push({ path: `${at}.service`, message: serviceNames.length === 0 ? 'no services are defined to download from' : 'required when more than one service is defined' });
    }
    if (service !== undefined && !(service in services)) issues.push({ path: `${at}.service`, message: `unknown service "${service}"` });
    const p = b.polling ?? {};
    if ((p.min_delay_seconds === undefined) !== (p.max_delay_seconds === undefined)) {
      issues.push({ path: `${at}.polling`, message: 'min_delay_seconds and max_delay_seconds must be given together' });
    }
    const polling: OpaPollingConfig = {
      minDelaySeconds: p.min_delay_seconds ?? DEFAULT_POLLING.min,
      maxDelaySeconds: p.max_delay_seconds ?? DEFAULT_POLLING.max,
    };
    if (polling.maxDelaySeconds < polling.minDelaySeconds) issues.push({ path: `${at}.polling.max_delay_seconds`, message: 'must be >= min_delay_seconds' });
    if (p.long_polling_timeout_seconds !== undefined) polling.longPollingTimeoutSeconds = p.long_polling_timeout_seconds;
    const out: OpaBundleConfig = { name, resource, polling, persist: b.persist ?? false };
    if (service !== undefined) out.service = service;
    if (b.size_limit_bytes !== undefined) out.sizeLimitBytes = b.size_limit_bytes;
    if (b.signing) {
      const keyId = b.signing.keyid;
      if (keyId !== undefined && !(keyId in keys)) issues.push({ path: `${at}.signing.keyid`, message: `unknown key "${keyId}" (define it under keys)` });
      if (keyId !== undefined && keys[keyId] && keys[keyId].key === undefined) issues.push({ path: `keys.${keyId}.key`, message: 'a verification key is required for bundle signing' });
      out.signing = { keyId, scope: b.signing.scope, excludeFiles: b.signing.exclude_files ?? [] };
    }
    bundles[name] = out;
  }

  let decisionLogs: OpaDecisionLogsConfig | null = null;
  if (raw.decision_logs) {
    const d = raw.decision_logs;
    const r = d.reporting ?? {};
    const console = d.console ?? false;
    let service = d.service;
    if (service === undefined && !console && serviceNames.length > 0) service = serviceNames[0];
    if (service !== undefined && !(service in services)) issues.push({ path: 'decision_logs.service', message: `unknown service "${service}"` });
    if ((r.min_delay_seconds === undefined) !== (r.max_delay_seconds === undefined)) {
      issues.push({ path: 'decision_logs.reporting', message: 'min_delay_seconds and max_delay_seconds must be given together' });
    }
    const reporting: OpaDecisionLogsConfig['reporting'] = {
      bufferType: r.buffer_type ?? 'size',
      bufferSizeLimitEvents: r.buffer_size_limit_events ?? DEFAULT_DECISION_LOG_REPORTING.bufferSizeLimitEvents,
      uploadSizeLimitBytes: r.upload_size_limit_bytes ?? DEFAULT_DECISION_LOG_REPORTING.uploadSizeLimitBytes,
      minDelaySeconds: r.min_delay_seconds ?? DEFAULT_DECISION_LOG_REPORTING.minDelaySeconds,
      maxDelaySeconds: r.max_delay_seconds ?? DEFAULT_DECISION_LOG_REPORTING.maxDelaySeconds,
    };
    if (reporting.maxDelaySeconds < reporting.minDelaySeconds) issues.push({ path: 'decision_logs.reporting.max_delay_seconds', message: 'must be >= min_delay_seconds' });
    if (r.buffer_size_limit_bytes !== undefined) reporting.bufferSizeLimitBytes = r.buffer_size_limit_bytes;
    if (r.max_decisions_per_second !== undefined) reporting.maxDecisionsPerSecond = r.max_decisions_per_second;
    if (r.buffer_size_limit_bytes !== undefined && r.max_decisions_per_second !== undefined) {
      issues.push({ path: 'decision_logs.reporting', message: 'only one of buffer_size_limit_bytes and max_decisions_per_second may be set' });
    }
    decisionLogs = {
      console,
      resource: d.resource ?? '/logs',
      maskDecision: d.mask_decision ?? '/system/log/mask',
      dropDecision: d.drop_decision ?? '/system/log/drop',
      reporting,
    };
    if (service !== undefined) decisionLogs.service = service;
  }

  let envoy: EnvoyExtAuthzGrpcConfig | null = null;
  const e = raw.plugins?.envoy_ext_authz_grpc;
  if (e) {
    if (e.path !== undefined && e.query !== undefined) issues.push({ path: 'plugins.envoy_ext_authz_grpc', message: 'specify only "path" (the deprecated "query" is not supported)' });
    else if (e.query !== undefined) issues.push({ path: 'plugins.envoy_ext_authz_grpc.query', message: 'the deprecated "query" option is not supported; use "path"' });
    envoy = {
      addr: e.addr ?? DEFAULT_ENVOY_PLUGIN.addr,
      path: (e.path ?? DEFAULT_ENVOY_PLUGIN.path).replace(/^\/+/, ''),
      dryRun: e['dry-run'] ?? false,
      enableReflection: e['enable-reflection'] ?? false,
      skipRequestBodyParse: e['skip-request-body-parse'] ?? false,
    };
    if (e['grpc-max-recv-msg-size'] !== undefined) envoy.grpcMaxRecvMsgSize = e['grpc-max-recv-msg-size'];
    if (e['grpc-max-send-msg-size'] !== undefined) envoy.grpcMaxSendMsgSize = e['grpc-max-send-msg-size'];
  }

  return {
    services,
    bundles,
    keys,
    decisionLogs,
    labels: raw.labels ?? {},
    defaultDecision: raw.default_decision ?? '/system/main',
    plugins: { envoyExtAuthzGrpc: envoy },
  };
}

/** Parses the text of an OPA config file (YAML or JSON). Throws ConfigError naming the fields. */
export function parseOpaConfig(text: string, opts: { file: string; env: EnvMap }): ParsedOpaConfig {
  const warnings: OpaConfigWarning[] = [];
  const sub = substituteEnv(text, opts.env);
  for (const name of sub.unset) warnings.push({ path: '', message: `environment variable ${name} is not set; \${${name}} became an empty string` });
  let raw: unknown;
  try {
    raw = parseYaml(sub.text) as unknown;
  } catch (e) {
    throw new ConfigError('config_yaml', opts.file, [{ path: '', message: `not valid YAML or JSON: ${(e as Error).message.split('\n')[0]}` }]);
  }
  if (raw === null || raw === undefined) raw = {};
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new ConfigError('config_invalid', opts.file, [{ path: '', message: 'the configuration must be an object' }]);
  const issues: ConfigIssue[] = [];
  servicesAsObject(raw as Record<string, unknown>, issues);

  let result = opaConfigSchema.safeParse(raw);
  if (!result.success) {
    const unknown = result.error.issues.filter((i): i is z.core.$ZodIssueUnrecognizedKeys => i.code === 'unrecognized_keys');
    for (const i of unknown) {
      const path = formatPath(i.path);
      for (const k of i.keys) warnings.push({ path: path === '' ? k : `${path}.${k}`, message: unknownKeyMessage(path, k) });
      dropKeys(raw, i.path, i.keys);
    }
    if (unknown.length > 0) result = opaConfigSchema.safeParse(raw);
  }
  if (!result.success) {
    for (const i of result.error.issues) issues.push({ path: formatPath(i.path), message: i.message });
    throw new ConfigError('config_invalid', opts.file, issues);
  }
  const config = build(result.data, issues);
  for (const [name, k] of Object.entries(config.keys)) {
    if (!SIGNING_ALGORITHMS.includes(k.algorithm)) issues.push({ path: `keys.${name}.algorithm`, message: `expected one of ${SIGNING_ALGORITHMS.join('|')}` });
  }
  if (issues.length > 0) throw new ConfigError('config_invalid', opts.file, issues);
  return { config, warnings };
}

/** Reads and parses an OPA config file. */
export function readOpaConfigFile(file: string, env: EnvMap): ParsedOpaConfig {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError('config_unreadable', file, [{ path: '', message: `cannot read (${errnoCode(e)})` }]);
  }
  return parseOpaConfig(text, { file, env });
}
