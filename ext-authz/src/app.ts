// Wiring (docs/architecture.md): registry → stores → facts deps → policy engine → pipeline → gRPC, HTTP
// and admin listeners, with telemetry (OpenTelemetry metrics and traces), readiness by named conditions
// (NOT_SERVING until policy and registry are loaded, and while the store is down or the service drains)
// and an ordered, bounded shutdown.
import type * as grpc from '@grpc/grpc-js';
import type * as http from 'node:http';
import { DEFAULT_ROUTING_HEADER } from './model/registry';
import type { RegistryConfig } from './model/registry';
import { createDemoSetup } from './config/default';
import type { DemoSetup } from './config/default';
import { RegistryWatcher } from './config/registry-watcher';
import { offThreadRegistryLoader } from './config/registry-off-thread';
import { registryDigest } from './config/registry-digest';
import type { ConfigError, EnvMap } from './config/registry';
import { MemoryPinStore, MemoryReplayStore } from './store/memory-store';
import { createRedisStores } from './store/redis-store';
import type { PinStore, ReplayStore } from './store/types';
import { budgetsFromLimits } from './store/budgets';
import type { StoreObserver } from './store/observer';
import { UnknownStateLimiter } from './pipeline/facts/unknown-state-limiter';
import type { OnLimited } from './pipeline/facts/unknown-state-limiter';
import { watchStore } from './server/store-watch';
import { createFactsDeps, createFactsDepsSliced } from './pipeline/facts/gather';
import type { FactsDeps } from './pipeline/facts/gather';
import { Pipeline } from './pipeline/pipeline';
import type { PolicyEngine } from './policy/engine';
import { createLogger, flushLogger } from './telemetry/logger';
import type { Logger } from './telemetry/logger';
import { describeError } from './telemetry/redact';
import { Telemetry, PROMETHEUS_CONTENT_TYPE } from './telemetry/telemetry';
import type { ServiceMetrics, StoreKind } from './telemetry/service-metrics';
import { VERSION } from './model/version';
import { DecisionLogger, fileSink, stdoutSink } from './telemetry/decision-log';
import type { DecisionLogSink } from './telemetry/decision-log';
import { CheckCore } from './check/check-core';
import { Readiness } from './server/health';
import { PinApi } from './server/pin-api';
import { bindGrpc, createGrpcServer, stopGrpc } from './server/grpc-server';
import { createHttpServer, listenHttp, stopHttp } from './server/http-server';
import type { HttpListener } from './server/http-server';
import { httpsOptions, serverCredentials } from './server/tls';
import type { TlsFiles } from './server/tls';
import { createPolicyEngine } from './policy/engine-factory';
import type { ConfiguredBundle } from './policy/engine-factory';
import { BundlePolicyEngine } from './policy/bundle-engine';
import { ShadowEngine } from './policy/shadow-engine';
import type { ShadowComparison } from './policy/shadow-engine';
import { PolicyLoadError } from './policy/engine';
import type { EngineChoice, StatusListener } from './policy/bundle-engine';
import type { BundleStatus } from './policy/bundle/bundle-status';
import type { PollingOptions } from './policy/bundle/http-bundle-source';
import type { VerificationConfig } from './policy/bundle/signature';
import { instrumentEngine, instrumentJwksFetch, instrumentPinStore, instrumentReplayStore } from './pipeline/instrumentation';
import { createAdminServer } from './server/admin-server';
import type { AdminRoutes } from './server/admin-routes';
import type { Decider } from './check/check-core';
import { OpaEnvoyCore } from './check/opa-envoy/core';
import type { OpaEnvoySettings } from './check/opa-envoy/core';
import { Lifecycle } from './lifecycle/lifecycle';
import type { LifecycleOptions } from './lifecycle/lifecycle';
import { MemoryLifecycleStore } from './lifecycle/lifecycle-store';
import { RedisLifecycleStore } from './lifecycle/redis-lifecycle-store';
import { memoryCensus, redisCensus } from './lifecycle/pin-census';
import type { CensusSource } from './lifecycle/pin-census';
import type { LifecycleStore } from './lifecycle/lifecycle-store';
import { createAdminApi } from './server/admin-api';
import { OpaServiceClient } from './config/opa-service-client';
import type { OpaDecisionLogsConfig, OpaServiceConfig } from './config/opa-config';
import { DecisionLogUploader } from './telemetry/decision-log-upload';
import type { MaskRule } from './telemetry/decision-log-mask';
import { createCockpit } from './server/cockpit';

export { VERSION } from './model/version';
export { registryDigest } from './config/registry-digest';
export const DEFAULT_POLICY_DIR = 'policies/callback';
export const DEFAULT_DECISION_PATH = 'callback/decision';
/** opa-envoy-plugin's default `path`. */
export const DEFAULT_OPA_ENVOY_DECISION_PATH = 'envoy/authz/allow';

/**
 * `callback` (default): the callback facts, registry, pins and stages before the policy. `opa-envoy`: a
 * drop-in for opa-envoy-plugin, the plugin's input and decision rules and nothing else
 * (docs/architecture.md, "OPA-Envoy mode").
 */
export type ServiceMode = 'callback' | 'opa-envoy';
export const SERVICE_MODES: readonly ServiceMode[] = ['callback', 'opa-envoy'];

/** The decision path a mode uses when none is given. */
export function defaultDecisionPath(mode: ServiceMode | undefined): string {
  return mode === 'opa-envoy' ? DEFAULT_OPA_ENVOY_DECISION_PATH : DEFAULT_DECISION_PATH;
}

export interface AppOptions {
  /** What a check does (default `callback`); `opa-envoy` ignores the registry and every callback option. */
  mode?: ServiceMode;
  /** `--mode opa-envoy`: the plugin's `dry-run` and `skip-request-body-parse` (plugins.envoy_ext_authz_grpc). */
  opaEnvoy?: OpaEnvoySettings;
  /** Accept Rego v0 policy modules (`--v0-compatible`, as OPA 1.x); default: v1 syntax only. */
  v0Compatible?: boolean;
  /** Registry YAML; absent → the embedded demo setup (keys generated now). */
  configFile?: string;
  /** A Rego directory, an OPA bundle directory or `.tar.gz`, or an http(s) bundle URL (docs/operations.md, "Bundles"). */
  policyDir?: string;
  /** Which engine runs a bundle: auto (wasm when it has policy.wasm, else rego), rego, or wasm. */
  engine?: EngineChoice;
  /** Bundle signature verification (`--verification-key`, `--verification-key-id`, `--signing-alg`, `--scope`, `--exclude-files`). */
  verification?: VerificationConfig;
  /** A bundle URL: the bearer token sent with every download. */
  bundleToken?: string;
  /** A bundle URL: polling delays (default OPA's 60–120 s; tests shorten them). */
  bundlePolling?: PollingOptions;
  /** How long load() waits for the first bundle from a server before going on not ready (default 5000 ms). */
  bundleWaitMs?: number;
  /** The bundle named in an OPA configuration file (`serve --opa-config`); replaces policyDir. */
  configuredBundle?: ConfiguredBundle;
  /** Poll interval of the local bundle watcher (tests; default 2 s). */
  policyWatchPollMs?: number;
  dataFile?: string;
  decisionPath?: string;
  grpcAddr?: string;
  httpAddr?: string;
  /**
   * Admin listener: /metrics, /healthz, /readyz and the mounted admin routes. `serve` defaults to
   * 127.0.0.1:9193; embedded apps (tests, benchmarks) default to a free loopback port.
   */
  adminAddr?: string;
  /**
   * In a cluster worker (`serve --workers`): the admin listener is this process's own, never shared by
   * the cluster, so its metrics and readiness are this worker's (docs/operations.md, "Workers").
   */
  adminExclusive?: boolean;
  /** Admin features mounted on the admin listener, tried in order after the built-in routes. */
  adminRoutes?: AdminRoutes[];
  redisUrl?: string;
  tls?: TlsFiles;
  /** TLS for the HTTP listener (Pin API, forward-auth); a CA requires client certificates. */
  httpTls?: TlsFiles;
  /** 'stdout', a file path, or a sink (tests); absent/null → off. */
  decisionLog?: string | DecisionLogSink | null;
  logger?: Logger;
  logLevel?: string;
  /** How long to keep serving after SIGTERM with health NOT_SERVING (default 2000 ms). */
  graceMs?: number;
  /** After the grace period, how long in-flight work may take before connections are cut (default 10 s). */
  drainDeadlineMs?: number;
  /**
   * A candidate policy (directory, bundle or URL) run beside the enforcing one, off the critical path:
   * differences are counted and logged, never enforced (docs/operations.md, "Shadow policy").
   */
  shadowPolicy?: string;
  /** Decision-log labels (OPA's `labels`), merged over {app, version}. */
  decisionLogLabels?: Record<string, string>;
  /** OPA's mask decision path (`decision_logs.mask_decision`): applied to each event when the policy defines it. */
  decisionLogMask?: string;
  /** Upload decision logs to an OPA decision-log service (`decision_logs.service`), gzip batches as OPA does. */
  decisionLogUpload?: {
    service: OpaServiceConfig;
    resource: string;
    reporting: OpaDecisionLogsConfig['reporting'];
  };
  /** Configuration problems that did not stop start-up (unknown or unsupported keys): logged as warnings at load. */
  configWarnings?: readonly { path: string; message: string }[];
  /** Use this demo setup instead of generating one (tests mint tokens with its keys). */
  demo?: DemoSetup;
  /**
   * The environment as the CLI read it once: the registry's `env:` secret references and the OTEL_*
   * telemetry settings (telemetry/otel-settings.ts). Absent → no OTEL_* settings (no export).
   */
  env?: EnvMap;
  /** Watch the policy dir / registry for changes (serve: true; check CLI: false). */
  watch?: boolean;
  /** With redisUrl: how long load() waits for the first epoch check before going on not ready (default 5000 ms). */
  storeWaitMs?: number;
  /** JSON-lines mirror of the stage audit chain (docs/stages.md); absent → shared store and log only. */
  auditLog?: string | null;
  /** Lifecycle timings (tests shorten them; docs/stages.md gives the defaults). */
  lifecycle?: Pick<LifecycleOptions, 'pollMs' | 'staleAfterMs' | 'flushMs' | 'censusMaxAgeMs' | 'sunsetLogEveryMs' | 'clock'>;
}

/** Everything the pipeline needs, without listeners (also what `callback-proxy check` uses). */
export interface Runtime {
  registry: () => RegistryConfig;
  /** A digest of the active registry (callback_proxy_registry_info). */
  registryRevision: () => string;
  /** Facts deps with the stage overrides applied (lifecycle/overrides.ts). */
  factsDeps: () => FactsDeps;
  pipeline: Pipeline;
  /** The pipeline behind the stage gate (fails closed while the overrides are unreadable). */
  decider: Decider;
  lifecycle: Lifecycle;
  engine: PolicyEngine;
  /** The status of every bundle the policy comes from (empty for a Rego directory). */
  bundles: () => BundleStatus[];
  /** Resolves true once every bundle is in use (at once for a Rego directory), false after `ms`. */
  waitBundles: (ms: number) => Promise<boolean>;
  demo: DemoSetup | null;
  store: StoreKind;
  /** The pin and replay stores as built (undecorated): for inspection, never for the request path. */
  stores: { pins: PinStore; replay: ReplayStore };
  /** Pins the store holds, when it can tell (memory); null for Redis. */
  pinsOutstanding: () => number | null;
  close(): Promise<void>;
}

/** What the serving app hooks into the runtime (the `check` CLI passes none). */
export interface RuntimeHooks {
  /** Metrics and spans on the runtime's parts (engine, stores, JWKS fetches). */
  metrics?: ServiceMetrics;
  /** Receives the stores' reports (state, epochs, full budgets, settings): server/store-watch.ts. */
  storeObserver?: (kind: StoreKind) => StoreObserver;
  /** Counts requests the unknown-state limiter refused. */
  onLimited?: OnLimited;
  /**
   * The memory replay store's epoch start: the service's start. Its markers die with the process, so
   * flows issued before it are refused (store_data_lost). Default 0 (a one-shot `check`).
   */
  memoryEpochStartMs?: number;
  /** Hears every bundle status change (readiness, logs). */
  onBundleStatus?: StatusListener;
  /** Hears every shadow comparison (metrics, decision logs). */
  onShadow?: (c: ShadowComparison) => void;
}

/** Loads registry, stores, facts deps, engine and pipeline. Throws (coded errors) on bad start-up input. */
export async function loadRuntime(opts: AppOptions, logger: Logger, hooks: RuntimeHooks = {}): Promise<Runtime> {
  const metrics = hooks.metrics;
  let demo: DemoSetup | null = null;
  let watcher: RegistryWatcher | null = null;
  let current: RegistryConfig;
  let revision = '';
  let reloads = 0;
  const fetchJwks = metrics ? instrumentJwksFetch(metrics) : undefined;
  if (opts.configFile) {
    watcher = new RegistryWatcher(opts.configFile, {
      env: opts.env ?? {},
      // Off the event loop where the compiled worker exists (docs/performance.md, "Reload").
      loader: offThreadRegistryLoader(),
      onChange: (reg, loadMs) => {
        const started = performance.now();
        const seq = ++reloads;
        // Prepare first (in slices: checks keep being answered with the last good deps meanwhile), then
        // swap both references: a registry that cannot be prepared never becomes current (the last good
        // one stays). Unchanged issuers keep their JWKS caches. A newer registry that arrived while
        // this one was being prepared wins.
        createFactsDepsSliced(reg, { pinStore, replayStore, unknownStates, fetchJwks, previous: deps }).then(
          (next) => {
            if (seq !== reloads) return;
            // New budgets apply from now on; nothing held is dropped (docs/operations.md, "Store budgets").
            const budgets = budgetsFromLimits(reg.limits);
            pinStore.setBudgets(budgets);
            replayStore.setBudgets(budgets);
            deps = next;
            current = reg;
            revision = registryDigest(reg);
            metrics?.reload('registry', true, Date.now());
            // Reading, parsing and validating (off the event loop where it can), then preparing.
            logger.info({ event: 'registry_reloaded', connections: reg.connections.length, revision, load_ms: Math.round(loadMs), prepare_ms: Math.round(performance.now() - started) }, 'registry reloaded');
          },
          (e: unknown) => {
            // The schema accepted it, so this is our bug: its class, code and stack, never its message.
            metrics?.reload('registry', false, Date.now());
            logger.error({ event: 'registry_reload_failed', stage: 'prepare', ...describeError(e) }, 'registry reload failed: the new registry could not be prepared; keeping the last good one');
          },
        );
      },
      // ConfigError messages name the file and the field, never a value (config/registry-errors.ts).
      onError: (err: ConfigError) => {
        metrics?.reload('registry', false, Date.now());
        logger.error({ event: 'registry_reload_failed', stage: 'validate', error_code: err.code, problem: err.message }, 'registry reload failed; keeping the last good one');
      },
    });
    current = watcher.current;
  } else {
    demo = opts.demo ?? createDemoSetup();
    current = demo.registry;
  }
  revision = registryDigest(current);
  let pinStore: PinStore;
  let replayStore: ReplayStore;
  let closeStores: () => Promise<void>;
  let lifecycleStore: LifecycleStore;
  let census: CensusSource;
  let pinsOutstanding: () => number | null = () => null;
  const store: StoreKind = opts.redisUrl ? 'redis' : 'memory';
  // Budgets from the registry's limits; nothing is evicted (docs/operations.md, "Store budgets").
  const budgets = budgetsFromLimits(current.limits);
  if (opts.redisUrl) {
    const s = createRedisStores({ url: opts.redisUrl, budgets, observer: hooks.storeObserver?.('redis') });
    pinStore = s.pinStore;
    replayStore = s.replayStore;
    lifecycleStore = new RedisLifecycleStore({ client: s.client, clock: opts.lifecycle?.clock });
    census = redisCensus({ client: s.client, clock: opts.lifecycle?.clock });
    closeStores = () => s.close().catch(closeFailed(logger, 'redis_stores'));
    // Give the first epoch check a moment; a Redis that is down keeps the `store` condition failing
    // (not ready) and its requests denied store_unavailable until it answers.
    await s.link.waitUsable(opts.storeWaitMs ?? 5000);
  } else {
    const observer = hooks.storeObserver?.('memory');
    const pins = new MemoryPinStore({ budgets, observer });
    // A restart loses every marker. Flows (states, RelayStates and their codes) issued before the start
    // are refused, at the cost of the logins in flight, whose store-backed pins are gone anyway. Token
    // jtis and webhook ids are not: refusing every token and delivery for minutes after each restart
    // would cost more than their short replay windows; use --redis to keep them across restarts.
    const markers = new MemoryReplayStore({ budgets, observer, epochStartMs: hooks.memoryEpochStartMs ?? 0, epochNamespaces: ['state', 'relay', 'code'] });
    pinStore = pins;
    replayStore = markers;
    lifecycleStore = new MemoryLifecycleStore(opts.lifecycle?.clock);
    census = memoryCensus(pins, markers, opts.lifecycle?.clock);
    pinsOutstanding = () => pins.size;
    closeStores = async () => {
      await pins.close();
      await markers.close();
    };
  }
  // The stores themselves, before the telemetry decorators (inspection: tests, the removal census).
  const stores = { pins: pinStore, replay: replayStore };
  if (metrics) {
    pinStore = instrumentPinStore(pinStore, store, metrics);
    replayStore = instrumentReplayStore(replayStore, store, metrics);
  }
  const unknownStates = new UnknownStateLimiter(hooks.onLimited ?? null);
  let deps = createFactsDeps(current, { pinStore, replayStore, unknownStates, fetchJwks });
  let loaded: LoadedEngine;
  try {
    loaded = await loadEngine(opts, logger, metrics, { onBundleStatus: hooks.onBundleStatus, onShadow: hooks.onShadow });
  } catch (e) {
    watcher?.close();
    await closeStores();
    throw e;
  }
  const engine = loaded.engine;
  // Stage overrides, audit, SLO guard and traffic counting (docs/stages.md): the pipeline reads the
  // lifecycle's facts deps (the file's with the overrides applied) and runs behind its stage gate.
  const lifecycle = new Lifecycle({
    ...opts.lifecycle,
    registry: () => current,
    baseDeps: () => deps,
    policyRevision: () => engine.revision,
    store: lifecycleStore,
    census,
    logger,
    auditFile: opts.auditLog ?? null,
  });
  const pipeline = new Pipeline({ factsDeps: () => lifecycle.deps(), engine });
  try {
    await lifecycle.start();
  } catch (e) {
    await engine.close().catch(closeFailed(logger, 'policy_engine'));
    await closeStores();
    throw e;
  }
  if (watcher && opts.watch) watcher.start();
  return {
    registry: () => current,
    registryRevision: () => revision,
    factsDeps: () => lifecycle.deps(),
    pipeline,
    decider: lifecycle.gate(pipeline),
    lifecycle,
    engine,
    bundles: loaded.bundles,
    waitBundles: loaded.waitBundles,
    demo,
    store,
    stores,
    pinsOutstanding,
    close: async () => {
      watcher?.close();
      await lifecycle.close();
      await engine.close().catch(closeFailed(logger, 'policy_engine'));
      await closeStores();
    },
  };
}

/** A loaded policy engine (instrumented) and the status of the bundles it comes from. */
export interface LoadedEngine {
  engine: PolicyEngine;
  /** The status of every bundle the policy comes from (empty for a Rego directory). */
  bundles: () => BundleStatus[];
  /** Resolves true once every bundle is in use (at once for a Rego directory), false after `ms`. */
  waitBundles: (ms: number) => Promise<boolean>;
}

/**
 * The policy engine of either mode: the one --policy (a Rego directory, an OPA bundle or a bundle URL),
 * --engine, --data and --decision describe.
 */
export async function loadEngine(
  opts: AppOptions,
  logger: Logger,
  metrics?: ServiceMetrics,
  hooks: { onBundleStatus?: StatusListener; onShadow?: (c: ShadowComparison) => void } = {},
): Promise<LoadedEngine> {
  const decisionPath = opts.decisionPath ?? defaultDecisionPath(opts.mode);
  let raw = await createPolicyEngine({
    policyDir: opts.policyDir ?? DEFAULT_POLICY_DIR,
    dataFile: opts.dataFile,
    decisionPath,
    watch: opts.watch === true,
    v0Compatible: opts.v0Compatible,
    logger,
    engine: opts.engine,
    verification: opts.verification,
    bundleToken: opts.bundleToken,
    polling: opts.bundlePolling,
    configured: opts.configuredBundle,
    watchPollMs: opts.policyWatchPollMs,
    onReload: (ev) => metrics?.reload('policy', ev.ok, Date.now()),
  });
  const enforcingEngine = raw;
  if (opts.shadowPolicy !== undefined) {
    let shadow: PolicyEngine;
    try {
      shadow = await createPolicyEngine({
        policyDir: opts.shadowPolicy,
        dataFile: opts.dataFile,
        decisionPath,
        watch: opts.watch === true,
        v0Compatible: opts.v0Compatible,
        logger: logger.child({ policy: 'shadow' }),
        verification: opts.verification,
        polling: opts.bundlePolling,
        watchPollMs: opts.policyWatchPollMs,
      });
    } catch (e) {
      await raw.close().catch(closeFailed(logger, 'policy_engine'));
      if (e instanceof PolicyLoadError) throw new PolicyLoadError(e.code, `--shadow-policy ${opts.shadowPolicy}: ${e.message}`);
      throw e;
    }
    raw = new ShadowEngine(enforcingEngine, shadow, { onCompare: hooks.onShadow });
  }
  const bundleEngine = enforcingEngine instanceof BundlePolicyEngine ? enforcingEngine : null;
  if (bundleEngine && hooks.onBundleStatus) {
    bundleEngine.onStatus(hooks.onBundleStatus);
    hooks.onBundleStatus(bundleEngine.statuses());
  }
  return {
    engine: metrics ? instrumentEngine(raw, metrics) : raw,
    bundles: () => bundleEngine?.statuses() ?? [],
    waitBundles: (ms) => (bundleEngine ? bundleEngine.waitActivated(ms) : Promise.resolve(true)),
  };
}

/** Shutdown goes on when one part fails to close; the failure is logged once, by class and code. */
function closeFailed(logger: Logger, part: string): (e: unknown) => void {
  return (e) => logger.warn({ event: 'close_failed', part, ...describeError(e) }, `${part} did not close cleanly`);
}

export interface Listening {
  grpcPort: number;
  httpPort: number;
  adminPort: number;
}

/** Decision-log events uploaded to an OPA decision-log service in gzip batches (telemetry/decision-log-upload.ts). */
function uploadSink(u: NonNullable<AppOptions['decisionLogUpload']>): DecisionLogSink {
  const client = new OpaServiceClient(u.service);
  const r = u.reporting;
  const uploader = new DecisionLogUploader({
    transport: client,
    resource: u.resource,
    uploadSizeLimitBytes: r.uploadSizeLimitBytes,
    bufferSizeLimitBytes: r.bufferSizeLimitBytes,
    bufferSizeLimitEvents: r.bufferSizeLimitEvents,
    minDelaySeconds: r.minDelaySeconds,
    maxDelaySeconds: r.maxDelaySeconds,
  });
  uploader.start();
  return {
    write: (line) => uploader.log(JSON.parse(line) as Record<string, unknown>),
    close: async () => {
      await uploader.stop();
      client.close();
    },
  };
}

/**
 * One bundle's status for `/readyz?verbose`: name, revision in use, last success and failure, and the
 * last error (a BundleError message: file names and fields, never a key or a token).
 */
export function bundleLine(b: BundleStatus): string {
  const parts = [
    `revision=${b.activeRevision === null ? '(none)' : JSON.stringify(b.activeRevision)}`,
    `last_activation=${b.lastSuccessfulActivation ?? '-'}`,
    `last_request_ok=${b.lastSuccessfulRequest ?? '-'}`,
  ];
  if (b.lastError) parts.push(`last_failure=${b.lastError.at}`, `error=${b.lastError.code}: ${b.lastError.message}`);
  return `${b.activeRevision === null ? '[-]' : '[+]'} bundle ${b.name} ${parts.join(' ')}`;
}

/** How long shutdown waits for telemetry to flush (an unreachable collector cannot hold the exit). */
const TELEMETRY_FLUSH_MS = 3000;

/** The service: construct, `listen()` (health NOT_SERVING), `load()` (SERVING), `stop()` (drain). */
export class App {
  readonly logger: Logger;
  readonly telemetry: Telemetry;
  readonly metrics: ServiceMetrics;
  readonly readiness = new Readiness();
  private runtime: Runtime | null = null;
  /** `--mode opa-envoy`: the only thing loaded (no registry, stores or lifecycle). */
  private opaLoaded: LoadedEngine | null = null;

  private get opaEngine(): PolicyEngine | null {
    return this.opaLoaded?.engine ?? null;
  }

  /** The bundles of either mode's policy (empty for a Rego directory or before load). */
  private bundleStatuses(): BundleStatus[] {
    return this.runtime?.bundles() ?? this.opaLoaded?.bundles() ?? [];
  }
  private grpcServer: grpc.Server | null = null;
  private httpServer: HttpListener | null = null;
  private adminServer: http.Server | null = null;
  private decisionLog: DecisionLogger | null = null;
  private stopping: Promise<void> | null = null;
  listening: Listening | null = null;
  /**
   * Mounted on the admin listener in this order after /metrics, /healthz and /readyz: those given in
   * the options, then the stage API and the cockpit (docs/stages.md), which answer 503 until load().
   */
  readonly adminRoutes: AdminRoutes[];

  /** Throws TelemetryConfigError when an OTEL_* setting cannot be used (it names the variable). */
  constructor(private readonly opts: AppOptions = {}) {
    this.logger = opts.logger ?? createLogger({ level: opts.logLevel });
    const lifecycle = (): Lifecycle | null => this.runtime?.lifecycle ?? null;
    const registry = (): RegistryConfig | null => this.runtime?.registry() ?? null;
    const clock = opts.lifecycle?.clock;
    this.adminRoutes = [
      ...(opts.adminRoutes ?? []),
      createAdminApi({ lifecycle, registry, logger: this.logger, clock }),
      createCockpit({ registry, logger: this.logger, clock }),
    ];
    this.telemetry = new Telemetry({ env: opts.env ?? {}, version: VERSION, nodeVersion: process.version });
    this.metrics = this.telemetry.metrics;
    for (const w of this.telemetry.settings.warnings) this.logger.warn({ event: 'telemetry_setting_ignored' }, w);
    for (const w of opts.configWarnings ?? []) this.logger.warn({ event: 'opa_config_ignored', path: w.path, problem: w.message }, `OPA configuration: ${w.path}: ${w.message}`);
    this.metrics.setState({
      policy: () => {
        const engine = this.runtime?.engine ?? this.opaEngine;
        return engine ? { revision: engine.revision, engine: engine.kind } : null;
      },
      registry: () => (this.runtime ? { revision: this.runtime.registryRevision(), connections: this.runtime.registry().connections } : null),
      pinsOutstanding: () => {
        const n = this.runtime?.pinsOutstanding() ?? null;
        return n === null ? null : { store: this.runtime!.store, count: n };
      },
      readiness: () => ({ ready: this.readiness.ready, conditions: this.readiness.snapshot() }),
      now: Date.now,
      bundles: () => this.bundleStatuses(),
    });
    if (opts.redisUrl && opts.mode !== 'opa-envoy') this.readiness.set('store', false, 'redis connecting');
  }

  /**
   * Mounts admin features (after those given in the options) on the admin listener; before listen()
   * only, so routes that need the app (its runtime, readiness, metrics) can be built after it.
   */
  addAdminRoutes(...routes: AdminRoutes[]): void {
    if (this.adminServer) throw new Error('admin routes must be added before listen()');
    this.adminRoutes.push(...routes);
  }

  get demo(): DemoSetup | null {
    return this.runtime?.demo ?? null;
  }

  get current(): Runtime | null {
    return this.runtime;
  }

  /** Binds the three listeners; checks are denied (authz_unavailable) and health is NOT_SERVING until load(). */
  async listen(): Promise<Listening> {
    this.telemetry.start();
    const dl = this.opts.decisionLog;
    const sinks: DecisionLogSink[] = [];
    if (dl) sinks.push(typeof dl === 'string' ? (dl === 'stdout' ? stdoutSink() : fileSink(dl)) : dl);
    if (this.opts.decisionLogUpload) sinks.push(uploadSink(this.opts.decisionLogUpload));
    if (sinks.length > 0) {
      const maskPath = this.opts.decisionLogMask;
      this.decisionLog = new DecisionLogger({
        sink: sinks.length === 1 ? sinks[0] : { write: (l) => sinks.forEach((s) => s.write(l)), close: async () => void (await Promise.all(sinks.map((s) => s.close()))) },
        labels: { app: 'callback-proxy', version: VERSION, ...this.opts.decisionLogLabels },
        path: this.decisionPath,
        mask: maskPath ? (ev) => this.maskRules(maskPath, ev) : undefined,
      });
    }
    const opaEnvoy =
      this.mode === 'opa-envoy'
        ? new OpaEnvoyCore({
            engine: () => this.opaEngine,
            settings: this.opts.opaEnvoy ?? {},
            logger: this.logger,
            metrics: this.metrics,
            decisionLog: this.decisionLog,
            decisionPath: this.decisionPath,
            tracing: this.telemetry.tracing,
          })
        : null;
    const core = new CheckCore({
      decider: () => this.runtime?.decider ?? null,
      logger: this.logger,
      metrics: this.metrics,
      decisionLog: this.decisionLog,
      tracing: this.telemetry.tracing,
      onDecision: (r) => this.runtime?.lifecycle.observe(r),
    });
    const pinApi = new PinApi(() => (this.runtime && this.readiness.ready ? this.runtime.factsDeps() : null), Date.now, this.logger);
    const routingHeader = (): string => this.runtime?.registry().routing_header ?? DEFAULT_ROUTING_HEADER;
    const credentials = serverCredentials(this.opts.tls);
    const httpTls = httpsOptions(this.opts.httpTls);
    this.grpcServer = createGrpcServer({ core, readiness: this.readiness, pinApi, metrics: this.metrics, routingHeader, opaEnvoy });
    const grpcPort = await bindGrpc(this.grpcServer, this.opts.grpcAddr ?? '127.0.0.1:9191', credentials);
    this.httpServer = createHttpServer({
      core,
      pinApi,
      metrics: this.metrics,
      routingHeader,
      opaEnvoy,
      maxBodyBytes: () => this.runtime?.registry().limits.max_body_bytes ?? 262_144,
      tls: httpTls,
    });
    const httpPort = await listenHttp(this.httpServer, this.opts.httpAddr ?? '127.0.0.1:9192');
    this.adminServer = createAdminServer({
      readiness: this.readiness,
      metricsText: () => this.telemetry.metricsText(),
      metricsContentType: PROMETHEUS_CONTENT_TYPE,
      routes: this.adminRoutes,
      details: () => this.bundleStatuses().map(bundleLine),
      onRouteError: (name, e) => this.logger.error({ event: 'admin_route_failed', route: name, error_name: e instanceof Error ? e.name : typeof e }, 'admin route failed'),
    });
    const adminPort = await listenHttp(this.adminServer, this.opts.adminAddr ?? '127.0.0.1:0', this.opts.adminExclusive === true);
    this.listening = { grpcPort, httpPort, adminPort };
    return this.listening;
  }

  get mode(): ServiceMode {
    return this.opts.mode ?? 'callback';
  }

  /** The decision path in use (slash form as given, or the mode's default). */
  get decisionPath(): string {
    return this.opts.decisionPath ?? defaultDecisionPath(this.opts.mode);
  }

  /** The policy engine checks use (either mode), once loaded. */
  get engine(): PolicyEngine | null {
    return this.runtime?.engine ?? this.opaEngine;
  }

  /** `--mode opa-envoy`: only the policy; no registry, stores, pins or stages. */
  private async loadOpaEnvoy(now: number): Promise<void> {
    const loaded = await loadEngine({ ...this.opts, watch: this.opts.watch ?? true }, this.logger, this.metrics, {
      onBundleStatus: (statuses) => this.bundleReadiness(statuses),
      onShadow: (c) => this.shadowCompared(c),
    });
    this.opaLoaded = loaded;
    this.metrics.loaded('policy', now);
    // A bundle server may take a moment; until its first bundle is activated the engine answers
    // authz_unavailable and the bundle's readiness condition says why (as in the callback mode).
    await loaded.waitBundles(this.opts.bundleWaitMs ?? 5000);
    this.readiness.markLoaded();
    const s = this.opts.opaEnvoy ?? {};
    const notReady = this.readiness.reasons();
    this.logger.info(
      {
        event: notReady.length === 0 ? 'ready' : 'loaded_not_ready',
        mode: 'opa-envoy',
        path: this.decisionPath,
        engine: loaded.engine.kind,
        revision: loaded.engine.revision,
        dry_run: s.dryRun === true,
        skip_request_body_parse: s.skipRequestBodyParse === true,
        not_ready: notReady.length ? notReady : undefined,
      },
      notReady.length === 0 ? 'ready (opa-envoy mode)' : 'loaded (opa-envoy mode); not ready',
    );
  }

  /** Loads config, keys and policies; health turns SERVING only after all of it succeeded. */
  async load(): Promise<void> {
    const now = Date.now();
    if (this.mode === 'opa-envoy') return this.loadOpaEnvoy(now);
    this.runtime = await loadRuntime({ ...this.opts, watch: this.opts.watch ?? true }, this.logger, {
      metrics: this.metrics,
      storeObserver: (kind) => watchStore({ kind, logger: this.logger, metrics: this.metrics, readiness: this.readiness }),
      onLimited: (scope, connection) => this.metrics.unknownStateLimited.add([scope, connection]),
      // A whole second: the envelopes this service signs carry whole seconds. A predecessor process
      // cannot have stopped, and this one loaded, within the same second.
      memoryEpochStartMs: Math.floor(Date.now() / 1000) * 1000,
      onBundleStatus: (statuses) => this.bundleReadiness(statuses),
      onShadow: (c) => this.shadowCompared(c),
    });
    // A bundle server may take a moment; after the wait the service goes on not ready (the bundle's
    // readiness condition says why) and denies authz_unavailable until the first bundle is activated.
    await this.runtime.waitBundles(this.opts.bundleWaitMs ?? 5000);
    this.metrics.loaded('policy', now);
    this.metrics.loaded('registry', now);
    if (this.opts.configFile && !this.opts.redisUrl) {
      // A registry means a real deployment; more than one replica would each keep their own pins.
      this.logger.warn(
        { event: 'pins_per_process', store: 'memory' },
        'pins and replay markers live in this process only (no --redis): run a single replica, or give every replica the same --redis',
      );
    }
    this.readiness.markLoaded();
    const notReady = this.readiness.reasons();
    this.logger.info(
      { event: notReady.length === 0 ? 'ready' : 'loaded_not_ready', engine: this.runtime.engine.kind, revision: this.runtime.engine.revision, registry_revision: this.runtime.registryRevision(), not_ready: notReady.length ? notReady : undefined },
      notReady.length === 0 ? 'ready' : 'loaded; not ready',
    );
  }

  /** A shadow comparison: counted; a difference is logged (no values) and written to the decision log (masked). */
  private shadowCompared(c: ShadowComparison): void {
    this.metrics.shadowComparisons.add([c.match ? 'match' : 'mismatch']);
    if (c.match) return;
    const side = (r: ShadowComparison['enforcing']): string => (r.ok ? 'value' : r.code);
    this.logger.info(
      { event: 'shadow_mismatch', decision_id: c.decisionId, enforcing: side(c.enforcing), shadow: side(c.shadow), enforcing_revision: c.enforcingRevision, shadow_revision: c.shadowRevision },
      'the shadow policy decided differently',
    );
    this.decisionLog?.logShadow({ ...c, bundles: this.engine?.bundles });
  }

  /** The mask decision's rules for one decision-log event (a set or array of rules), or none. */
  private maskRules(path: string, event: Record<string, unknown>): readonly MaskRule[] | null {
    const r = this.engine?.evaluatePath?.(path, event);
    return r && r.ok && Array.isArray(r.value) ? (r.value as MaskRule[]) : null;
  }

  /** One readiness condition per bundle: ready once it was activated (OPA's rule), with the error until then. */
  private bundleReadiness(statuses: readonly BundleStatus[]): void {
    for (const s of statuses) {
      const why = s.lastError ? `not activated (${s.lastError.code})` : 'not activated yet';
      this.readiness.set(`bundle ${s.name}`, s.activeRevision !== null, s.activeRevision === null ? why : '');
    }
  }

  async start(): Promise<Listening> {
    const l = await this.listen();
    await this.load();
    return l;
  }

  /**
   * Drain (docs/operations.md, "Shutdown"): health NOT_SERVING so load balancers and Envoy's health
   * checks move away, keep answering for the grace period, then GOAWAY the gRPC server, close HTTP,
   * flush the decision log, close the stores, close the admin listener, flush telemetry and logs.
   * Idempotent.
   */
  stop(): Promise<void> {
    if (!this.stopping) this.stopping = this.doStop();
    return this.stopping;
  }

  private async doStop(): Promise<void> {
    const wasReady = this.readiness.ready;
    this.readiness.markDraining();
    // The grace period lets load balancers notice NOT_SERVING; a service that never became ready
    // (start-up failure) has nobody to warn.
    const grace = wasReady ? (this.opts.graceMs ?? 2000) : 0;
    this.logger.info({ event: 'draining', grace_ms: grace }, 'draining');
    if (grace > 0) await new Promise((r) => setTimeout(r, grace));
    const deadline = this.opts.drainDeadlineMs ?? 10_000;
    await Promise.all([
      this.grpcServer ? stopGrpc(this.grpcServer, deadline) : Promise.resolve(),
      this.httpServer ? stopHttp(this.httpServer, deadline) : Promise.resolve(),
    ]);
    await this.decisionLog?.close().catch(closeFailed(this.logger, 'decision_log'));
    await this.runtime?.close().catch(closeFailed(this.logger, 'runtime'));
    await this.opaEngine?.close().catch(closeFailed(this.logger, 'policy_engine'));
    // The admin listener goes last: /readyz keeps saying "draining" while the others close.
    for (const r of this.adminRoutes) await r.close?.().catch(closeFailed(this.logger, `admin_routes_${r.name}`));
    if (this.adminServer) await stopHttp(this.adminServer, Math.min(deadline, 2000));
    await this.telemetry.shutdown(TELEMETRY_FLUSH_MS);
    this.logger.info({ event: 'stopped' }, 'stopped');
    await flushLogger(this.logger);
  }
}
