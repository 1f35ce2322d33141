// `callback-proxy serve`: the service. With no flags it runs the embedded demo setup and says so loudly.
// Every flag also reads a CALLBACK_PROXY_* variable (flag > variable > default; an empty variable counts
// as unset), and the OTEL_* variables configure telemetry (docs/operations.md, "Configuration").
import { Option } from 'commander';
import type { Command } from 'commander';
import type { AppOptions, ServiceMode } from '../app';
import { createPublicKey, X509Certificate } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { resolveSecret } from '../config/secret-refs';
import type { OpaConfig } from '../config/opa-config';
import type { EngineChoice } from '../policy/engine';
import type { VerificationConfig } from '../policy/bundle/signature';
import { CliError, describeError, exitCodesHelp } from './cli-errors';
import { parseWorkers, workersRefusal } from './serve-workers';

/** What `serve` runs: the App's options and how many worker processes share its listeners. */
export interface ServeOptions extends AppOptions {
  /** 1: this process serves; more: a node:cluster primary and that many workers (cli/serve-workers.ts). */
  workers: number;
}

/** One serve flag: its long name, commander's attribute name, the variable and a default. */
interface FlagSpec {
  flag: string;
  arg: string;
  key: string;
  env: string;
  help: string;
  dflt?: string;
  /** A switch without a value; its variable takes true/false (or 1/0). */
  bool?: boolean;
}

const f = (flag: string, arg: string, help: string, dflt?: string): FlagSpec => {
  const name = flag.replace(/^--/, '');
  return { flag, arg, help, dflt, key: name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase()), env: `CALLBACK_PROXY_${name.replace(/-/g, '_').toUpperCase()}` };
};

export const SERVE_FLAGS: readonly FlagSpec[] = [
  f('--mode', '<mode>', 'callback (the callback facts, registry, pins and stages before the policy) or opa-envoy (a drop-in for opa-envoy-plugin: its input and decision rules only)', 'callback'),
  f('--config', '<file>', 'migration registry YAML (default: the embedded demo setup)'),
  f('--policy', '<dir|bundle|url>', 'policy: a Rego directory, an OPA bundle (.tar.gz or directory) or an http(s) bundle URL', 'policies/callback'),
  f('--engine', '<auto|rego|wasm>', 'engine for a bundle: auto = wasm when it has policy.wasm, else rego', 'auto'),
  f('--verification-key', '<file|secret>', 'verify bundle signatures: a PEM public key file (RSA/ECDSA), or an HMAC secret (env:NAME, file:path or the value)'),
  f('--verification-key-id', '<id>', 'the id of --verification-key (as opa run)', 'default'),
  f('--signing-alg', '<alg>', 'the algorithm of --verification-key (RS256, PS256, ES256, HS256, … as opa run)', 'RS256'),
  f('--scope', '<scope>', 'the scope a bundle signature must carry'),
  f('--exclude-files', '<globs>', 'comma-separated bundle paths (globs) not checked against the signature (opa run --exclude-files-verify)'),
  f('--bundle-token', '<secret>', 'bearer token for an http(s) --policy: env:NAME, file:path or the value'),
  f('--shadow-policy', '<dir|bundle|url>', 'a candidate policy run beside --policy off the critical path: differences are counted and logged, never enforced'),
  f('--opa-config', '<file>', "OPA's configuration file: services, bundles, keys, decision_logs, labels, default_decision, plugins.envoy_ext_authz_grpc (flags win)"),
  f('--data', '<file>', 'extra data document (JSON/YAML) merged at the root of data'),
  f('--decision', '<path>', 'decision path, e.g. callback/decision or envoy/authz/allow (default: callback/decision; envoy/authz/allow with --mode opa-envoy)'),
  f('--grpc-addr', '<host:port>', 'gRPC listen address (Envoy ext_authz, Pin API, grpc.health.v1)', '127.0.0.1:9191'),
  f('--http-addr', '<host:port>', 'HTTP listen address (forward-auth, Pin API): reachable from the proxy only', '127.0.0.1:9192'),
  f('--admin-addr', '<host:port>', 'admin listen address (/metrics, /healthz, /readyz, admin routes)', '127.0.0.1:9193'),
  f('--redis', '<url>', 'Redis URL (redis:// or rediss://) for pins and replay markers (default: in memory)'),
  f('--tls-cert', '<file>', 'PEM certificate chain for the gRPC listener'),
  f('--tls-key', '<file>', 'PEM private key for the gRPC listener'),
  f('--tls-ca', '<file>', 'PEM CA bundle: require and verify client certificates (mTLS)'),
  f('--http-tls-cert', '<file>', 'PEM certificate chain for the HTTP listener (forward-auth, Pin API)'),
  f('--http-tls-key', '<file>', 'PEM private key for the HTTP listener'),
  f('--http-tls-ca', '<file>', 'PEM CA bundle: the HTTP listener requires and verifies client certificates (mTLS)'),
  f('--decision-log', '<file|stdout>', 'write OPA-style decision log events (masked) as JSON lines'),
  f('--log-level', '<level>', 'log level: fatal, error, warn, info, debug, trace or silent (also $LOG_LEVEL)', 'info'),
  f('--grace-ms', '<ms>', 'after SIGTERM keep serving this long with health NOT_SERVING (0..25000)', '2000'),
  f('--audit-log', '<file>', 'append the stage audit chain to this JSON-lines file (callback-proxy audit verify)'),
  f('--workers', '<n|auto>', 'processes sharing the listeners (node:cluster); auto = the cores available; more than 1 needs --redis and --config (not in --mode opa-envoy)', '1'),
  { ...f('--v0-compatible', '', 'accept Rego v0 policy modules (as OPA 1.x --v0-compatible); default: Rego v1, as in OPA 1.x'), bool: true },
];

/** `--engine` values (policy/engine.ts ENGINE_CHOICES; not imported: `--help` loads no policy code). */
const ENGINE_CHOICES: readonly EngineChoice[] = ['auto', 'rego', 'wasm'];

/** pino's levels, most to least severe, and `silent`. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
const KNOWN_ENV = new Set(SERVE_FLAGS.map((s) => s.env));
/** Kubernetes service links for a Service named callback-proxy (CALLBACK_PROXY_SERVICE_HOST, …). */
const SERVICE_LINK = /^CALLBACK_PROXY_(SERVICE_HOST|SERVICE_PORT(_.+)?|PORT(_\d+_(TCP|UDP|SCTP)(_PROTO|_PORT|_ADDR)?)?)$/;

/** A resolved flag value and where it came from, for error messages that name the right thing. */
interface Resolved {
  value: string | undefined;
  /** `--grace-ms` or `CALLBACK_PROXY_GRACE_MS`. */
  from: string;
}

function resolve(cmd: Command, spec: FlagSpec, env: Readonly<Record<string, string | undefined>>): Resolved {
  const source = cmd.getOptionValueSource(spec.key);
  if (spec.bool) {
    if (source === 'cli') return { value: 'true', from: spec.flag };
    // commander sets a switch on for any value of its variable; read the value itself.
    const e = (env[spec.env] ?? '').trim().toLowerCase();
    if (e === '') return { value: undefined, from: 'default' };
    if (e === 'true' || e === '1') return { value: 'true', from: spec.env };
    if (e === 'false' || e === '0') return { value: undefined, from: spec.env };
    throw usage(spec.env, 'expected true or false');
  }
  const raw = cmd.getOptionValue(spec.key) as string | undefined;
  if (source === 'env') {
    // An empty variable is unset (templated manifests often render empty strings).
    if (raw === undefined || raw.trim() === '') return { value: spec.dflt, from: 'default' };
    return { value: raw, from: spec.env };
  }
  return { value: raw, from: source === 'cli' ? spec.flag : 'default' };
}

function usage(from: string, why: string): CliError {
  return new CliError('cli_usage', `${from}: ${why}`);
}

/** The modes (app.ts SERVICE_MODES; repeated here so `--help` does not load the app). */
const MODES: readonly ServiceMode[] = ['callback', 'opa-envoy'];

const ADDR = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/;

/** Turns the parsed flags (and the variables behind them) into App options; throws naming the bad one. */
export async function serveOptions(cmd: Command, env: Readonly<Record<string, string | undefined>>): Promise<ServeOptions> {
  // Loaded here, not at the top: `--help` and the other commands do not pay for YAML, zod or policy code.
  const { SIGNING_ALGORITHMS } = await import('../config/opa-config-schema');
  const v: Record<string, Resolved> = {};
  for (const s of SERVE_FLAGS) v[s.key] = resolve(cmd, s, env);
  for (const key of ['grpcAddr', 'httpAddr', 'adminAddr']) {
    const r = v[key];
    const m = ADDR.exec(r.value ?? '');
    if (!m || Number(m[2]) > 65535) throw usage(r.from, 'expected host:port (port 0..65535; IPv6 in brackets)');
  }
  // The long-standing LOG_LEVEL still counts when neither the flag nor CALLBACK_PROXY_LOG_LEVEL is set.
  const level = v.logLevel.from === 'default' && env.LOG_LEVEL !== undefined && env.LOG_LEVEL !== '' ? { value: env.LOG_LEVEL, from: 'LOG_LEVEL' } : v.logLevel;
  if (!LOG_LEVELS.includes(level.value ?? '')) throw usage(level.from, `unknown log level ${JSON.stringify(level.value)}; expected one of ${LOG_LEVELS.join(', ')}`);
  const graceR = v.graceMs;
  const grace = Number(graceR.value);
  if (!/^\d+$/.test(graceR.value ?? '') || grace > 25_000) throw usage(graceR.from, 'expected an integer between 0 and 25000');
  const redis = v.redis;
  if (redis.value !== undefined && !/^rediss?:\/\/[^\s]+$/.test(redis.value)) throw usage(redis.from, 'expected a redis:// or rediss:// URL');
  const modeR = v.mode;
  if (!MODES.includes(modeR.value as ServiceMode)) throw usage(modeR.from, `unknown mode ${JSON.stringify(modeR.value)}; expected one of ${MODES.join(', ')}`);
  const mode = modeR.value as ServiceMode;
  if (mode === 'opa-envoy') {
    // No registry, stores or stages in this mode: a flag for them is a mistake, not something to ignore.
    for (const key of ['config', 'redis', 'auditLog']) {
      if (v[key].value !== undefined) throw usage(v[key].from, 'not used with --mode opa-envoy (it has no registry, pins or stages)');
    }
    // Or a bundle from --opa-config (checked below, once the file is read).
    if (v.policy.from === 'default' && v.opaConfig.value === undefined) throw usage('--policy', 'required with --mode opa-envoy: your OPA-Envoy policy (a directory, a bundle or a bundle URL)');
  }
  const decision = v.decision.value === undefined ? { value: mode === 'opa-envoy' ? 'envoy/authz/allow' : 'callback/decision', from: 'default' } : v.decision;
  if (!/^(data[./])?[A-Za-z_][A-Za-z0-9_]*([./][A-Za-z_][A-Za-z0-9_]*)*\/?$/.test((decision.value ?? '').replace(/^\/+/, ''))) {
    throw usage(decision.from, 'expected a decision path like callback/decision or data.envoy.authz.allow');
  }
  const cert = v.tlsCert.value;
  const key = v.tlsKey.value;
  if ((cert && !key) || (!cert && key)) throw usage(cert ? v.tlsCert.from : v.tlsKey.from, 'the TLS certificate and key must be given together (--tls-cert and --tls-key)');
  if (v.tlsCa.value && !cert) throw usage(v.tlsCa.from, 'a client CA needs a server certificate and key (--tls-cert and --tls-key)');
  const hcert = v.httpTlsCert.value;
  const hkey = v.httpTlsKey.value;
  if ((hcert && !hkey) || (!hcert && hkey)) throw usage(hcert ? v.httpTlsCert.from : v.httpTlsKey.from, 'the HTTP listener\'s certificate and key must be given together (--http-tls-cert and --http-tls-key)');
  if (v.httpTlsCa.value && !hcert) throw usage(v.httpTlsCa.from, 'a client CA for the HTTP listener needs its certificate and key (--http-tls-cert and --http-tls-key)');
  const workers = parseWorkers(v.workers.value, v.workers.from);
  const refusal = workersRefusal(workers, { redisUrl: redis.value, configFile: v.config.value, mode }, v.workers.from);
  if (refusal) throw refusal;
  const engine = v.engine;
  if (!ENGINE_CHOICES.includes(engine.value as EngineChoice)) throw usage(engine.from, `expected one of ${ENGINE_CHOICES.join(', ')}`);
  const verification = verificationOptions(v, env, SIGNING_ALGORITHMS);
  let bundleToken: string | undefined;
  if (v.bundleToken.value !== undefined) {
    const t = resolveSecret(v.bundleToken.value, { baseDir: '.', env });
    if (!t.ok) throw usage(v.bundleToken.from, t.message);
    if (!/^https?:\/\//i.test(v.policy.value ?? '')) throw usage(v.bundleToken.from, 'a bearer token needs an http(s) bundle URL as --policy');
    bundleToken = t.value;
  }
  const opts: ServeOptions = {
    workers,
    mode,
    configFile: v.config.value,
    policyDir: v.policy.value,
    engine: engine.value as EngineChoice,
    verification,
    shadowPolicy: v.shadowPolicy.value,
    bundleToken,
    dataFile: v.data.value,
    decisionPath: decision.value,
    grpcAddr: v.grpcAddr.value,
    httpAddr: v.httpAddr.value,
    adminAddr: v.adminAddr.value,
    redisUrl: redis.value,
    decisionLog: v.decisionLog.value ?? null,
    logLevel: level.value,
    graceMs: grace,
    watch: true,
    env: { ...env },
    auditLog: v.auditLog.value ?? null,
  };
  if (v.v0Compatible.value === 'true') opts.v0Compatible = true;
  if (v.opaConfig.value !== undefined) {
    const { readOpaConfigFile } = await import('../config/opa-config');
    const { verificationForBundle } = await import('../policy/bundle/bundle-config');
    applyOpaConfig(opts, v, env, readOpaConfigFile, verificationForBundle);
  }
  if (mode === 'opa-envoy' && v.policy.from === 'default' && opts.configuredBundle === undefined) {
    throw usage('--policy', `required with --mode opa-envoy: your OPA-Envoy policy (a directory, a bundle or a bundle URL); ${v.opaConfig.from} names no bundle`);
  }
  if (cert && key) opts.tls = { cert, key, ca: v.tlsCa.value };
  if (hcert && hkey) opts.httpTls = { cert: hcert, key: hkey, ca: v.httpTlsCa.value };
  return opts;
}

/** OPA's default decision (the `POST /` API); not a decision path that means anything here. */
const OPA_DEFAULT_DECISION = '/system/main';

/**
 * `--opa-config opa.yaml` → App options (docs/operations.md, "OPA configuration"). Flags given
 * explicitly win over the file; a policy named both ways, or verification flags beside a configured
 * bundle, is an error. Keys the file has that we do not act on become warnings naming the key path.
 */
function applyOpaConfig(
  opts: AppOptions,
  v: Record<string, Resolved>,
  env: Readonly<Record<string, string | undefined>>,
  readOpaConfigFile: typeof import('../config/opa-config').readOpaConfigFile,
  verificationForBundle: typeof import('../policy/bundle/bundle-config').verificationForBundle,
): void {
  const from = v.opaConfig;
  const file = from.value!;
  let cfg: OpaConfig;
  const warnings: { path: string; message: string }[] = [];
  try {
    const parsed = readOpaConfigFile(file, env);
    cfg = parsed.config;
    warnings.push(...parsed.warnings);
  } catch (e) {
    throw usage(from.from, describeError(e));
  }
  const explicit = (r: Resolved): boolean => r.from !== 'default';
  const bundles = Object.values(cfg.bundles);
  if (bundles.length > 1) throw usage(from.from, `${file}: bundles: only one bundle can be the policy here (found ${bundles.map((b) => b.name).join(', ')})`);
  if (bundles.length === 1) {
    const b = bundles[0];
    if (explicit(v.policy)) throw usage(v.policy.from, `the policy is named twice: here and in ${file} (bundles.${b.name}); give one`);
    if (opts.verification) throw usage(v.verificationKey.from, `${file} configures bundles.${b.name}: give its key under keys and bundles.${b.name}.signing instead`);
    if (b.persist) warnings.push({ path: `bundles.${b.name}.persist`, message: 'persisting bundles to disk is not supported; the bundle is downloaded at every start' });
    opts.configuredBundle = { bundle: b, service: b.service !== undefined ? cfg.services[b.service] : undefined, verification: verificationForBundle(b, cfg.keys) };
    opts.policyDir = b.resource;
  }
  const d = cfg.decisionLogs;
  if (d) {
    if (d.console && !explicit(v.decisionLog)) opts.decisionLog = 'stdout';
    if (d.service !== undefined) opts.decisionLogUpload = { service: cfg.services[d.service], resource: d.resource, reporting: d.reporting };
    opts.decisionLogMask = d.maskDecision;
    if (d.dropDecision !== '/system/log/drop') warnings.push({ path: 'decision_logs.drop_decision', message: 'the drop decision is not supported; every decision is logged' });
    if (d.reporting.maxDecisionsPerSecond !== undefined) warnings.push({ path: 'decision_logs.reporting.max_decisions_per_second', message: 'rate limiting decision logs is not supported; the buffer limits apply' });
  }
  if (Object.keys(cfg.labels).length > 0) opts.decisionLogLabels = { ...cfg.labels };
  const e = cfg.plugins.envoyExtAuthzGrpc;
  if (e) {
    if (!explicit(v.grpcAddr)) {
      const addr = e.addr.startsWith(':') ? `0.0.0.0${e.addr}` : e.addr;
      const m = ADDR.exec(addr);
      if (!m || Number(m[2]) > 65535) throw usage(from.from, `${file}: plugins.envoy_ext_authz_grpc.addr: expected host:port or :port`);
      opts.grpcAddr = addr;
    }
    if (!explicit(v.decision)) opts.decisionPath = e.path;
    opts.opaEnvoy = { dryRun: e.dryRun, skipRequestBodyParse: e.skipRequestBodyParse };
    if (e.enableReflection) warnings.push({ path: 'plugins.envoy_ext_authz_grpc.enable-reflection', message: 'gRPC server reflection is not supported (no reflection service is installed); ignored' });
    if (e.grpcMaxRecvMsgSize !== undefined) warnings.push({ path: 'plugins.envoy_ext_authz_grpc.grpc-max-recv-msg-size', message: 'not supported; grpc-js defaults apply' });
    if (e.grpcMaxSendMsgSize !== undefined) warnings.push({ path: 'plugins.envoy_ext_authz_grpc.grpc-max-send-msg-size', message: 'not supported; grpc-js defaults apply' });
  } else if (!explicit(v.decision) && cfg.defaultDecision !== OPA_DEFAULT_DECISION) {
    opts.decisionPath = cfg.defaultDecision.replace(/^\/+/, '');
  }
  opts.configWarnings = warnings;
}

/**
 * `--verification-key` and its companions → a VerificationConfig, as `opa run` reads them: the key is a
 * PEM file (RSA/ECDSA public key or certificate) or, for HS*, the secret itself. Checked now, so a bad
 * key stops start-up naming the flag rather than refusing every bundle later.
 */
function verificationOptions(v: Record<string, Resolved>, env: Readonly<Record<string, string | undefined>>, SIGNING_ALGORITHMS: readonly string[]): VerificationConfig | undefined {
  const alg = v.signingAlg;
  if (!SIGNING_ALGORITHMS.includes(alg.value ?? '')) throw usage(alg.from, `unsupported signing algorithm ${JSON.stringify(alg.value)}; expected one of ${SIGNING_ALGORITHMS.join(', ')}`);
  const k = v.verificationKey;
  if (k.value === undefined) {
    for (const other of [v.scope, v.excludeFiles]) if (other.value !== undefined) throw usage(other.from, 'needs --verification-key');
    return undefined;
  }
  let key: string;
  if (k.value.startsWith('env:') || k.value.startsWith('file:')) {
    const r = resolveSecret(k.value, { baseDir: '.', env });
    if (!r.ok) throw usage(k.from, r.message);
    key = r.value;
  } else if (existsSync(k.value) && statSync(k.value).isFile()) {
    key = readFileSync(k.value, 'utf8');
  } else {
    key = k.value;
  }
  if (!(alg.value ?? '').startsWith('HS')) {
    try {
      if (key.includes('-----BEGIN CERTIFICATE-----')) new X509Certificate(key);
      else createPublicKey(key);
    } catch {
      throw usage(k.from, `not a readable PEM public key for ${alg.value} (give the path of a PEM file${existsSync(k.value) ? '' : '; no such file'})`);
    }
  }
  const exclude = v.excludeFiles.value?.split(',').map((x) => x.trim()).filter((x) => x !== '');
  return {
    keys: { [v.verificationKeyId.value ?? 'default']: { key, algorithm: alg.value } },
    keyId: v.verificationKeyId.value ?? 'default',
    scope: v.scope.value,
    excludeFiles: exclude,
  };
}

/** CALLBACK_PROXY_* variables that no flag reads (a typo would otherwise be ignored silently). */
export function unknownVariables(env: Readonly<Record<string, string | undefined>>): string[] {
  return Object.keys(env)
    .filter((k) => k.startsWith('CALLBACK_PROXY_') && !KNOWN_ENV.has(k) && !SERVICE_LINK.test(k))
    .sort();
}

function demoWarning(l: { grpcPort: number; httpPort: number; adminPort: number }, DEMO_HOST: string, DEMO_PIN_API_TOKEN: string, DEMO_ADMIN_TOKEN: string): string {
  const bar = '!'.repeat(78);
  return [
    bar,
    '!! WARNING: callback-proxy is running the EMBEDDED DEMO SETUP (no --config given).',
    '!!   - connection "demo" on host ' + DEMO_HOST + ', backends "legacy" and "new", stage canary 50 %',
    '!!   - keys were generated at start and vanish on exit; pins live in memory only',
    '!!   - the Pin API token is the published demo token "' + DEMO_PIN_API_TOKEN + '"',
    '!!   - the admin token (role approver: stage changes) is the published demo token "' + DEMO_ADMIN_TOKEN + '"',
    '!! Never expose this to real traffic. Use --config registry.yaml for anything else.',
    `!! gRPC ext_authz on 127.0.0.1:${l.grpcPort}   HTTP forward-auth / Pin API on 127.0.0.1:${l.httpPort}`,
    `!! admin (/metrics, /readyz, the cockpit at /) on 127.0.0.1:${l.adminPort}`,
    '!! try: callback-proxy pins mint --connection demo --backend new',
    '!!      CALLBACK_PROXY_ADMIN_TOKEN=' + DEMO_ADMIN_TOKEN + ' callback-proxy stage show',
    bar,
  ].join('\n');
}

const withPort = (addr: string | undefined, port: number): string => (addr ?? '').replace(/:\d+$/, `:${port}`);

/** Starts the service and runs until a signal (the default action of `serve`). */
export async function runServe(serve: ServeOptions): Promise<void> {
  const { workers, ...appOpts } = serve;
  let opts: AppOptions = appOpts;
  // Loaded here, not at the top: `--help` and the other commands should not pay for the service.
  const cluster = await import('./serve-workers');
  if (workers > 1 && cluster.isPrimaryOfCluster()) {
    // The primary serves nothing itself (docs/operations.md, "Workers").
    const code = await cluster.runPrimary({ workers, addrs: { grpc: opts.grpcAddr, http: opts.httpAddr, admin: opts.adminAddr }, say: (l) => process.stderr.write(`${l}\n`) });
    process.exit(code);
  }
  const k = cluster.workerIndex();
  if (k !== null) {
    // A worker: its own admin listener, and the audit file written by one worker only.
    opts = { ...opts, adminAddr: cluster.workerAdminAddr(opts.adminAddr, k), adminExclusive: true, auditLog: k === 1 ? opts.auditLog : null };
  }
  const { App } = await import('../app');
  const { installShutdown } = await import('./shutdown');
  const { DEMO_ADMIN_TOKEN, DEMO_HOST, DEMO_PIN_API_TOKEN } = await import('../config/default');
  let app: InstanceType<typeof App>;
  try {
    app = new App(opts);
  } catch (e) {
    throw new CliError('cli_usage', describeError(e)); // a bad OTEL_* setting, named
  }
  installShutdown(app, { drainOn: k !== null ? cluster.onPrimaryShutdown : undefined });
  if (opts.mode !== 'opa-envoy' && /^\/*(data[./])?envoy[./]/.test(opts.decisionPath ?? '')) {
    // The callback facts (registry hosts, pins, replays) still run first in the callback mode.
    process.stderr.write('callback-proxy: note: an OPA-Envoy decision path in the callback mode; for opa-envoy-plugin\'s behaviour use --mode opa-envoy\n');
  }
  let listening;
  try {
    listening = await app.listen();
    await app.load();
  } catch (e) {
    // The start-up error is the one to report; a failure to stop after it is said too, not dropped.
    await app.stop().catch((stopErr: unknown) => process.stderr.write(`callback-proxy: stopping after the failed start-up also failed: ${describeError(stopErr)}\n`));
    throw new CliError('cli_startup', `start-up failed: ${describeError(e)}`);
  }
  if (k !== null) {
    // The primary prints the one ready line once every worker is ready.
    cluster.reportReady(listening);
    await new Promise<never>(() => undefined);
  }
  if (!opts.configFile && opts.mode !== 'opa-envoy') process.stderr.write(`${demoWarning(listening, DEMO_HOST, DEMO_PIN_API_TOKEN, DEMO_ADMIN_TOKEN)}\n`);
  process.stderr.write(
    `callback-proxy ready: grpc=${withPort(opts.grpcAddr, listening.grpcPort)} http=${withPort(opts.httpAddr, listening.httpPort)}${opts.httpTls ? ' (https)' : ''} admin=${withPort(opts.adminAddr, listening.adminPort)}\n`,
  );
  // Runs until a signal: installShutdown exits the process.
  await new Promise<never>(() => undefined);
}

export function registerServeCommand(program: Command, run: (opts: ServeOptions) => Promise<void> = runServe): void {
  const cmd = program
    .command('serve')
    .description('run the ext-authz service (gRPC ext_authz + HTTP forward-auth + Pin API + admin listener); no flags = embedded demo');
  for (const s of SERVE_FLAGS) {
    const o = new Option(s.bool ? s.flag : `${s.flag} ${s.arg}`, s.help).env(s.env);
    if (s.dflt !== undefined) o.default(s.dflt);
    cmd.addOption(o);
  }
  cmd
    .addHelpText(
      'after',
      [
        '',
        'Every flag can also be set by the variable shown (a flag wins over its variable; an empty variable',
        'counts as unset). A CALLBACK_PROXY_* variable that no flag reads is reported at start.',
        'Telemetry is configured by the standard OTEL_* variables: OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES,',
        'OTEL_EXPORTER_OTLP_ENDPOINT / _PROTOCOL (http/protobuf, http/json, grpc) / _HEADERS / _TIMEOUT,',
        'OTEL_TRACES_EXPORTER and OTEL_METRICS_EXPORTER (otlp, console, none; exporters are off unless an',
        'endpoint or exporter is set), OTEL_TRACES_SAMPLER (+ _ARG), OTEL_PROPAGATORS, OTEL_BSP_*,',
        'OTEL_METRIC_EXPORT_INTERVAL, OTEL_SDK_DISABLED. Prometheus metrics are always on the admin listener.',
      ].join('\n') +
        exitCodesHelp({ ok: 'after a clean shutdown (SIGTERM or SIGINT)', usage: 'bad usage or a failed start-up (the message names the flag, variable, file or field)' }) +
        '\nA second signal exits at once with 130; a drain that outlasts 30 s exits 1.',
    )
    .action(async () => {
      const env = process.env;
      const unknown = unknownVariables(env);
      if (unknown.length > 0) process.stderr.write(`callback-proxy: warning: ignoring unknown variable(s) ${unknown.join(', ')}\n`);
      await run(await serveOptions(cmd, env));
    });
}
