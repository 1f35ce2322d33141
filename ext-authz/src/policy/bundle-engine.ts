// Policy phase, OPA bundles (docs/operations.md, "Bundles"): one engine behind the PolicyEngine
// interface whose policy comes from a bundle — a directory, a `.tar.gz` file, or a bundle server — and
// runs on the engine the bundle calls for: OPA's own WebAssembly (`policy.wasm`, through
// @open-policy-agent/opa-wasm) or the TypeScript Rego engine. Every new bundle is read, verified and
// compiled before it replaces the one in use, as one swap; a bundle that fails keeps the last good one
// and is recorded in the bundle's status (/readyz, metrics, decision logs). Until the first bundle is
// activated every evaluation answers `authz_unavailable` (fail closed, docs/architecture.md).
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { FileWatcher } from '../config/file-watcher';
import { OpaServiceClient } from '../config/opa-service-client';
import type { OpaServiceConfig } from '../config/opa-config';
import { decisionRef, PolicyLoadError } from './engine';
import type { BundleRevisions, EngineChoice, EngineResult, EvalOptions, PolicyEngine, ReloadEvent } from './engine';
import { mergeData } from './load-dir';
import { RegoPolicyEngine } from './rego-engine';
import { WasmPolicyEngine } from './wasm/wasm-engine';
import type { BuiltinRegistry } from '../rego/engine';
import { asBundleError, BundleError } from './bundle/bundle-errors';
import { LocalBundleSource } from './bundle/bundle-source';
import { HttpBundleSource } from './bundle/http-bundle-source';
import type { PollingOptions } from './bundle/http-bundle-source';
import type { LoadedBundle, BundleReadOptions } from './bundle/load-bundle';
import type { BundleStatus } from './bundle/bundle-status';

export { ENGINE_CHOICES } from './engine';
export type { EngineChoice } from './engine';

export interface BundleEngineChoice {
  /** Decision path (`callback/decision`); for wasm, the entrypoint it names. */
  decision: string;
  engine: EngineChoice;
  /** Extra data documents (`--data`) merged at the root after the bundle's. */
  extraData?: Record<string, unknown>[];
  deadlineMs?: number;
  /** Accept Rego v0 modules in the bundle (`--v0-compatible`); default v1, as in OPA 1.x. */
  v0Compatible?: boolean;
  /** Where wasm host builtins come from (tests; default the shared builtin library). */
  registry?: BuiltinRegistry;
}

/** The flag that chooses the engine, as errors name it. */
const ENGINE_FLAG = '--engine';

function revisionOf(b: LoadedBundle): string {
  return b.revision !== '' ? b.revision : b.contentHash.slice(0, 16);
}

function dataFor(b: LoadedBundle, extra: readonly Record<string, unknown>[] | undefined): Record<string, unknown> {
  const data = structuredClone(b.data);
  for (const e of extra ?? []) mergeData(data, structuredClone(e), 'data');
  return data;
}

/** Does the bundle carry a policy.wasm? */
export function bundleHasWasm(b: LoadedBundle): boolean {
  return b.wasm !== null && b.wasm.length > 0;
}

/**
 * The engine one bundle runs on: `auto` is wasm when the bundle has `policy.wasm`, else Rego. `rego` on
 * a bundle without Rego modules and `wasm` on one without `policy.wasm` are load errors naming the flag.
 * For wasm the decision path is the entrypoint (`callback/decision`), found among the manifest's `wasm`
 * resolvers. Throws PolicyLoadError.
 */
export async function engineForBundle(b: LoadedBundle, opts: BundleEngineChoice): Promise<PolicyEngine> {
  const where = `bundle ${b.name}`;
  const hasWasm = bundleHasWasm(b);
  const choice = opts.engine === 'auto' ? (hasWasm ? 'wasm' : 'rego') : opts.engine;
  const revision = revisionOf(b);
  if (choice === 'wasm') {
    if (!hasWasm) {
      throw new PolicyLoadError('policy_engine_mismatch', `${ENGINE_FLAG} wasm: ${where} has no policy.wasm (build it with \`opa build -t wasm\`, or use ${ENGINE_FLAG} rego)`);
    }
    const ref = decisionRef(opts.decision);
    const entrypoint = ref.slice('data.'.length).split('.').join('/');
    const modules = b.wasm ?? [];
    // The module the manifest maps the entrypoint to; a lone module without resolvers is asked itself.
    const mod = modules.find((w) => w.entrypoints.includes(entrypoint)) ?? (modules.length === 1 && modules[0].entrypoints.length === 0 ? modules[0] : undefined);
    if (!mod) {
      const known = modules.flatMap((w) => w.entrypoints).sort();
      throw new PolicyLoadError('decision_path_invalid', `${where}: no wasm entrypoint ${entrypoint} (the manifest lists: ${known.join(', ') || 'none'}); set --decision to one of them`);
    }
    try {
      return await WasmPolicyEngine.load({ wasm: mod.bytes, data: dataFor(b, opts.extraData), entrypoint, revision, registry: opts.registry });
    } catch (e) {
      if (e instanceof PolicyLoadError) throw new PolicyLoadError(e.code, `${where}: ${e.message}`);
      throw e;
    }
  }
  if (b.modules.length === 0) {
    throw new PolicyLoadError('policy_engine_mismatch', `${ENGINE_FLAG} rego: ${where} has no Rego modules (it holds only policy.wasm); use ${ENGINE_FLAG} wasm or auto`);
  }
  try {
    return new RegoPolicyEngine({
      dir: where,
      source: { modules: b.modules.map((m) => ({ file: m.path, text: m.text })), data: dataFor(b, opts.extraData), revision },
      decision: opts.decision,
      deadlineMs: opts.deadlineMs,
      v0Compatible: opts.v0Compatible,
    });
  } catch (e) {
    if (e instanceof PolicyLoadError && e.code === 'decision_path_undefined' && hasWasm) {
      // `opa build -t wasm` compiles the entrypoints into policy.wasm and leaves them out of the Rego copies.
      throw new PolicyLoadError(e.code, `${ENGINE_FLAG} rego: ${e.message} (this bundle was built for wasm: its entrypoints exist only in policy.wasm; use ${ENGINE_FLAG} wasm or auto)`);
    }
    throw e;
  }
}

/** Where a `--policy` value points. */
export type PolicyLocation = { kind: 'url'; url: string } | { kind: 'archive'; path: string } | { kind: 'dir-bundle'; path: string } | { kind: 'dir'; path: string };

/**
 * `--policy` → its kind: an http(s) URL is a bundle server, a file is a `.tar.gz` bundle, a directory is
 * read as a bundle when it needs to be (it holds policy.wasm or .signatures.json, a verification key is
 * given, or `--engine wasm`), else as today's hot-reloaded Rego directory.
 */
export function locatePolicy(policy: string, o: { engine: EngineChoice; verifying: boolean }): PolicyLocation {
  if (/^https?:\/\//i.test(policy)) return { kind: 'url', url: policy };
  let isDir = false;
  let exists = true;
  try {
    isDir = statSync(policy).isDirectory();
  } catch {
    exists = false; // the loader names it: a missing bundle file, or (anything else) a missing directory
  }
  if (!isDir) return exists && !policy.endsWith('.rego') || /\.(tar\.gz|tgz)$/.test(policy) ? { kind: 'archive', path: policy } : { kind: 'dir', path: policy };
  const bundleDir = o.engine === 'wasm' || o.verifying || existsSync(join(policy, 'policy.wasm')) || existsSync(join(policy, '.signatures.json'));
  return { kind: bundleDir ? 'dir-bundle' : 'dir', path: policy };
}

export interface BundlePolicyOptions extends BundleEngineChoice {
  /** Bundle name in status, metrics and decision logs. */
  name: string;
  source:
    | { kind: 'file'; path: string; watch: boolean; pollMs?: number }
    | { kind: 'http'; service: OpaServiceConfig; resource: string; polling: PollingOptions };
  read: Omit<BundleReadOptions, 'name' | 'etag'>;
  /** Told about every activation and failure after the first load (logs, metrics). */
  onReload?: (event: ReloadEvent & { bundle: string }) => void;
}

/** Listener for bundle status changes (readiness, metrics). */
export type StatusListener = (statuses: readonly BundleStatus[]) => void;

export class BundlePolicyEngine implements PolicyEngine {
  readonly decisionPath: string;
  private inner: PolicyEngine | null = null;
  private bundleRevisions: BundleRevisions = Object.freeze({});
  private readonly local: LocalBundleSource | null = null;
  private readonly http: HttpBundleSource | null = null;
  private client: OpaServiceClient | null = null;
  private watcher: FileWatcher | null = null;
  private readonly listeners: StatusListener[] = [];
  private activatedWaiters: (() => void)[] = [];
  private closed = false;

  private constructor(private readonly opts: BundlePolicyOptions) {
    this.decisionPath = decisionRef(opts.decision);
    const s = opts.source;
    if (s.kind === 'file') {
      this.local = new LocalBundleSource({ path: s.path, name: opts.name, read: opts.read });
    } else {
      this.client = new OpaServiceClient(s.service);
      this.http = new HttpBundleSource({
        name: opts.name,
        client: this.client,
        resource: s.resource,
        polling: s.polling,
        read: opts.read,
        activate: (b) => this.activate(b),
        onError: (e) => this.reportFailure(e.code, e.message),
      });
    }
  }

  /**
   * A local bundle is read, verified and compiled now (throws PolicyLoadError: start-up fails, naming
   * the file and the problem); a bundle server is polled from now on, and the engine answers
   * authz_unavailable until its first bundle is activated (see waitActivated).
   */
  static async create(opts: BundlePolicyOptions): Promise<BundlePolicyEngine> {
    const e = new BundlePolicyEngine(opts);
    if (e.local) {
      const s = opts.source as { kind: 'file'; path: string; watch: boolean; pollMs?: number };
      // The watcher takes its digest before the first read, so no change in between is missed.
      const watcher = s.watch ? new FileWatcher(s.path, { onChange: () => void e.reload(), debounceMs: 150, pollMs: s.pollMs }) : null;
      let b: LoadedBundle;
      try {
        b = await e.local.load();
      } catch (err) {
        watcher?.close();
        const be = asBundleError(err, 'bundle_unreadable');
        throw new PolicyLoadError('policy_bundle_invalid', `bundle ${opts.name} (${s.path}): ${be.message} [${be.code}]`);
      }
      try {
        await e.activate(b);
      } catch (err) {
        watcher?.close();
        throw err;
      }
      e.local.activated(b);
      e.notify();
      e.watcher = watcher?.start() ?? null;
    } else {
      e.http?.start();
    }
    return e;
  }

  get kind(): string {
    return this.inner?.kind ?? 'bundle';
  }

  get revision(): string {
    return this.inner?.revision ?? '';
  }

  get bundles(): BundleRevisions {
    return this.bundleRevisions;
  }

  /** The status of the bundle (OPA's status API fields). */
  statuses(): BundleStatus[] {
    return [(this.local ?? this.http)!.status()];
  }

  onStatus(l: StatusListener): void {
    this.listeners.push(l);
  }

  /** Resolves true once a bundle is in use, false when `ms` pass first. */
  waitActivated(ms: number): Promise<boolean> {
    if (this.inner !== null) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(t);
        resolve(true);
      };
      const t = setTimeout(() => {
        this.activatedWaiters = this.activatedWaiters.filter((w) => w !== done);
        resolve(false);
      }, ms);
      t.unref?.();
      this.activatedWaiters.push(done);
    });
  }

  evaluate(input: unknown, opts?: EvalOptions): EngineResult | Promise<EngineResult> {
    const e = this.inner;
    if (e === null) return { ok: false, code: 'authz_unavailable', detail: 'bundle_not_activated' };
    return e.evaluate(input, opts);
  }

  evaluatePath(path: string, input: unknown): EngineResult {
    const e = this.inner;
    if (e === null) return { ok: false, code: 'authz_unavailable', detail: 'bundle_not_activated' };
    return e.evaluatePath ? e.evaluatePath(path, input) : { ok: false, code: 'policy_undefined', detail: 'not supported' };
  }

  /** Builds the engine for a bundle and swaps it in; throws (keeping the current one) when it cannot. */
  private async activate(b: LoadedBundle): Promise<void> {
    const started = Date.now();
    const next = await engineForBundle(b, this.opts);
    if (this.closed) {
      await next.close();
      return;
    }
    const old = this.inner;
    this.inner = next;
    this.bundleRevisions = Object.freeze({ [this.opts.name]: Object.freeze({ revision: b.revision }) });
    if (old) void old.close().catch(() => undefined);
    // The first local bundle is reported by start-up itself; every later activation here.
    if (old || this.http) {
      this.report({ ok: true, revision: next.revision, files: b.files, durationMs: Date.now() - started, bundle: this.opts.name });
    }
    const wake = (): void => {
      const w = this.activatedWaiters;
      this.activatedWaiters = [];
      for (const f of w) f();
    };
    // http: the source records the activation after this returns; tell listeners (readiness) and then
    // the waiters on the next turn, so a waiter sees the status already saying "activated".
    if (this.http) {
      setImmediate(() => {
        this.notify();
        wake();
      });
    } else wake();
  }

  /** Re-reads a local bundle after a change; a failure keeps the last good one. Never throws. */
  async reload(): Promise<void> {
    if (!this.local || this.closed) return;
    let b: LoadedBundle;
    try {
      b = await this.local.load();
    } catch (e) {
      const be = asBundleError(e, 'bundle_unreadable');
      this.reportFailure(be.code, be.message);
      return;
    }
    try {
      await this.activate(b);
      this.local.activated(b);
      this.notify();
    } catch (e) {
      const code = e instanceof PolicyLoadError ? e.code : 'policy_compile_error';
      const message = e instanceof Error ? e.message : String(e);
      // The status records activation failures too (the source only saw a good download).
      this.local.activationFailed(new BundleError('bundle_activation_failed', `${message} [${code}]`));
      this.reportFailure(code, message);
    }
  }

  private reportFailure(code: string, message: string): void {
    this.report({ ok: false, code, message, keptRevision: this.revision, bundle: this.opts.name });
    this.notify();
  }

  private report(ev: ReloadEvent & { bundle: string }): void {
    try {
      this.opts.onReload?.(ev);
    } catch {
      // reporting never undoes a swap
    }
  }

  private notify(): void {
    const s = this.statuses();
    for (const l of this.listeners) {
      try {
        l(s);
      } catch {
        // a listener must not stop the others
      }
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.watcher?.close();
    this.watcher = null;
    await this.http?.stop();
    this.client?.close();
    const e = this.inner;
    this.inner = null;
    await e?.close();
  }
}
