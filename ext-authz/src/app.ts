// Wiring (DESIGN §7): registry → stores → facts deps → policy engine → pipeline → gRPC + HTTP servers,
// with readiness (NOT_SERVING until all of it loaded) and an ordered, bounded shutdown.
import type * as grpc from '@grpc/grpc-js';
import { DEFAULT_ROUTING_HEADER } from './model/registry';
import type { RegistryConfig } from './model/registry';
import { createDemoSetup } from './config/default';
import type { DemoSetup } from './config/default';
import { RegistryWatcher } from './config/registry-watcher';
import type { ConfigError, EnvMap } from './config/registry';
import { MemoryPinStore, MemoryReplayStore } from './store/memory-store';
import { createRedisStores } from './store/redis-store';
import type { PinStore, ReplayStore } from './store/types';
import { budgetsFromLimits } from './store/budgets';
import type { StoreObserver } from './store/observer';
import { UnknownStateLimiter } from './pipeline/facts/unknown-state-limiter';
import type { OnLimited } from './pipeline/facts/unknown-state-limiter';
import { watchStore } from './server/store-watch';
import type { StoreKind } from './server/store-watch';
import { createFactsDeps } from './pipeline/facts/gather';
import type { FactsDeps } from './pipeline/facts/gather';
import { Pipeline } from './pipeline/pipeline';
import type { PolicyEngine } from './policy/engine';
import { createLogger, flushLogger } from './telemetry/logger';
import type { Logger } from './telemetry/logger';
import { createMetrics } from './telemetry/metrics';
import { describeError } from './telemetry/redact';
import type { ServiceMetrics } from './telemetry/metrics';
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
import { VERSION } from './telemetry/metrics';
import type { Decider } from './check/check-core';
import { Lifecycle } from './lifecycle/lifecycle';
import type { LifecycleOptions } from './lifecycle/lifecycle';
import { MemoryLifecycleStore } from './lifecycle/lifecycle-store';
import { RedisLifecycleStore } from './lifecycle/redis-lifecycle-store';
import { memoryCensus, redisCensus } from './lifecycle/pin-census';
import type { CensusSource } from './lifecycle/pin-census';
import type { LifecycleStore } from './lifecycle/lifecycle-store';
import type { AdminRoutes } from './server/admin-routes';
import { createAdminApi } from './server/admin-api';
import { createCockpit } from './server/cockpit';

export { VERSION } from './telemetry/metrics';
export const DEFAULT_POLICY_DIR = 'policies/callback';
export const DEFAULT_DECISION_PATH = 'callback/decision';

export interface AppOptions {
  /** Registry YAML; absent → the embedded demo setup (keys generated now). */
  configFile?: string;
  policyDir?: string;
  dataFile?: string;
  decisionPath?: string;
  grpcAddr?: string;
  httpAddr?: string;
  redisUrl?: string;
  tls?: TlsFiles;
  /** TLS for the HTTP listener (Pin API, forward-auth, health, metrics); a CA requires client certificates. */
  httpTls?: TlsFiles;
  /** 'stdout', a file path, or a sink (tests); absent/null → off. */
  decisionLog?: string | DecisionLogSink | null;
  logger?: Logger;
  logLevel?: string;
  /** How long to keep serving after SIGTERM with health NOT_SERVING (default 2000 ms). */
  graceMs?: number;
  /** After the grace period, how long in-flight work may take before connections are cut (default 10 s). */
  drainDeadlineMs?: number;
  /** Use this demo setup instead of generating one (tests mint tokens with its keys). */
  demo?: DemoSetup;
  /** Environment variables for the registry's `env:` secret references (the CLI reads them once). */
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
  /** Facts deps with the stage overrides applied (lifecycle/overrides.ts). */
  factsDeps: () => FactsDeps;
  pipeline: Pipeline;
  /** The pipeline behind the stage gate (fails closed while the overrides are unreadable). */
  decider: Decider;
  lifecycle: Lifecycle;
  engine: PolicyEngine;
  demo: DemoSetup | null;
  close(): Promise<void>;
}

/** What the serving app hooks into the runtime (the `check` CLI passes none). */
export interface RuntimeHooks {
  /** Receives the stores' reports (state, epochs, full budgets, settings): server/store-watch.ts. */
  storeObserver?: (kind: StoreKind) => StoreObserver;
  /** Counts requests the unknown-state limiter refused. */
  onLimited?: OnLimited;
  /**
   * The memory replay store's epoch start: the service's start. Its markers die with the process, so
   * flows issued before it are refused (store_data_lost). Default 0 (a one-shot `check`).
   */
  memoryEpochStartMs?: number;
}

/** Loads registry, stores, facts deps, engine and pipeline. Throws (coded errors) on bad start-up input. */
export async function loadRuntime(opts: AppOptions, logger: Logger, hooks: RuntimeHooks = {}): Promise<Runtime> {
  let demo: DemoSetup | null = null;
  let watcher: RegistryWatcher | null = null;
  let current: RegistryConfig;
  if (opts.configFile) {
    watcher = new RegistryWatcher(opts.configFile, {
      env: opts.env ?? {},
      onChange: (reg) => {
        // Prepare first, then swap both references: a registry that cannot be prepared never becomes
        // current (the last good one stays). Unchanged issuers keep their JWKS caches.
        let next: FactsDeps;
        try {
          next = createFactsDeps(reg, { pinStore, replayStore, unknownStates, previous: deps });
        } catch (e) {
          // The schema accepted it, so this is our bug: its class, code and stack, never its message.
          logger.error({ event: 'registry_reload_failed', stage: 'prepare', ...describeError(e) }, 'registry reload failed: the new registry could not be prepared; keeping the last good one');
          return;
        }
        // New budgets apply from now on; nothing held is dropped (docs/operations.md, "Store budgets").
        const budgets = budgetsFromLimits(reg.limits);
        pinStore.setBudgets(budgets);
        replayStore.setBudgets(budgets);
        deps = next;
        current = reg;
        logger.info({ event: 'registry_reloaded', connections: reg.connections.length }, 'registry reloaded');
      },
      // ConfigError messages name the file and the field, never a value (config/registry-errors.ts).
      onError: (err: ConfigError) => logger.error({ event: 'registry_reload_failed', stage: 'validate', error_code: err.code, problem: err.message }, 'registry reload failed; keeping the last good one'),
    });
    current = watcher.current;
  } else {
    demo = opts.demo ?? createDemoSetup();
    current = demo.registry;
  }
  let pinStore: PinStore;
  let replayStore: ReplayStore;
  let closeStores: () => Promise<void>;
  let lifecycleStore: LifecycleStore;
  let census: CensusSource;
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
    closeStores = async () => {
      await pinStore.close();
      await replayStore.close();
    };
  }
  const unknownStates = new UnknownStateLimiter(hooks.onLimited ?? null);
  let deps = createFactsDeps(current, { pinStore, replayStore, unknownStates });
  const engine = await createPolicyEngine({
    policyDir: opts.policyDir ?? DEFAULT_POLICY_DIR,
    dataFile: opts.dataFile,
    decisionPath: opts.decisionPath ?? DEFAULT_DECISION_PATH,
    watch: opts.watch === true,
    logger,
  });
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
    await engine.close().catch(() => undefined);
    await closeStores();
    throw e;
  }
  if (watcher && opts.watch) watcher.start();
  return {
    registry: () => current,
    factsDeps: () => lifecycle.deps(),
    pipeline,
    decider: lifecycle.gate(pipeline),
    lifecycle,
    engine,
    demo,
    close: async () => {
      watcher?.close();
      await lifecycle.close();
      await engine.close().catch(closeFailed(logger, 'policy_engine'));
      await closeStores();
    },
  };
}

/** Shutdown goes on when one part fails to close; the failure is logged once, by class and code. */
function closeFailed(logger: Logger, part: string): (e: unknown) => void {
  return (e) => logger.warn({ event: 'close_failed', part, ...describeError(e) }, `${part} did not close cleanly`);
}

export interface Listening {
  grpcPort: number;
  httpPort: number;
}

/** The service: construct, `listen()` (health NOT_SERVING), `load()` (SERVING), `stop()` (drain). */
export class App {
  readonly logger: Logger;
  readonly metrics: ServiceMetrics;
  readonly readiness = new Readiness();
  private runtime: Runtime | null = null;
  private grpcServer: grpc.Server | null = null;
  private httpServer: HttpListener | null = null;
  private decisionLog: DecisionLogger | null = null;
  private stopping: Promise<void> | null = null;
  listening: Listening | null = null;
  /**
   * The stage API and the cockpit (docs/stages.md), to mount on the admin listener in this order; they
   * answer 503 until load() finished.
   */
  readonly adminRoutes: AdminRoutes[];

  constructor(private readonly opts: AppOptions = {}) {
    this.logger = opts.logger ?? createLogger({ level: opts.logLevel });
    this.metrics = createMetrics(VERSION);
    const lifecycle = (): Lifecycle | null => this.runtime?.lifecycle ?? null;
    const registry = (): RegistryConfig | null => this.runtime?.registry() ?? null;
    const clock = opts.lifecycle?.clock;
    this.adminRoutes = [createAdminApi({ lifecycle, registry, logger: this.logger, clock }), createCockpit({ registry, logger: this.logger, clock })];
  }

  get demo(): DemoSetup | null {
    return this.runtime?.demo ?? null;
  }

  get current(): Runtime | null {
    return this.runtime;
  }

  /** Binds both listeners; checks are denied (authz_unavailable) and health is NOT_SERVING until load(). */
  async listen(): Promise<Listening> {
    const dl = this.opts.decisionLog;
    if (dl) {
      const sink = typeof dl === 'string' ? (dl === 'stdout' ? stdoutSink() : fileSink(dl)) : dl;
      this.decisionLog = new DecisionLogger({ sink, labels: { app: 'callback-proxy', version: VERSION }, path: this.opts.decisionPath ?? DEFAULT_DECISION_PATH });
    }
    const core = new CheckCore({
      decider: () => this.runtime?.decider ?? null,
      logger: this.logger,
      metrics: this.metrics,
      decisionLog: this.decisionLog,
      onDecision: (r) => this.runtime?.lifecycle.observe(r),
    });
    const pinApi = new PinApi(() => (this.runtime && this.readiness.ready ? this.runtime.factsDeps() : null), Date.now, this.logger);
    const routingHeader = (): string => this.runtime?.registry().routing_header ?? DEFAULT_ROUTING_HEADER;
    const credentials = serverCredentials(this.opts.tls);
    const httpTls = httpsOptions(this.opts.httpTls);
    this.grpcServer = createGrpcServer({ core, readiness: this.readiness, pinApi, metrics: this.metrics, routingHeader });
    const grpcPort = await bindGrpc(this.grpcServer, this.opts.grpcAddr ?? '127.0.0.1:9191', credentials);
    this.httpServer = createHttpServer({
      core,
      readiness: this.readiness,
      pinApi,
      metrics: this.metrics,
      routingHeader,
      maxBodyBytes: () => this.runtime?.registry().limits.max_body_bytes ?? 262_144,
      tls: httpTls,
    });
    const httpPort = await listenHttp(this.httpServer, this.opts.httpAddr ?? '127.0.0.1:9192');
    this.listening = { grpcPort, httpPort };
    return this.listening;
  }

  /** Loads config, keys and policies; health turns SERVING only after all of it succeeded. */
  async load(): Promise<void> {
    this.runtime = await loadRuntime({ ...this.opts, watch: this.opts.watch ?? true }, this.logger, {
      storeObserver: (kind) => watchStore({ kind, logger: this.logger, metrics: this.metrics, readiness: this.readiness }),
      onLimited: (scope, connection) => this.metrics.unknownStateLimited.inc({ scope, connection }),
      // A whole second: the envelopes this service signs carry whole seconds. A predecessor process
      // cannot have stopped, and this one loaded, within the same second.
      memoryEpochStartMs: Math.floor(Date.now() / 1000) * 1000,
    });
    this.readiness.markLoaded();
    this.logger.info({ event: 'ready', engine: this.runtime.engine.kind, revision: this.runtime.engine.revision }, 'ready');
  }

  async start(): Promise<Listening> {
    const l = await this.listen();
    await this.load();
    return l;
  }

  /**
   * Drain (ECOSYSTEM "Shutdown"): health NOT_SERVING so load balancers and Envoy's health checks move
   * away, keep answering for the grace period, then GOAWAY the gRPC server, close HTTP, flush logs
   * and close the stores. Idempotent.
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
    this.logger.info({ event: 'stopped' }, 'stopped');
    await flushLogger(this.logger);
  }
}

