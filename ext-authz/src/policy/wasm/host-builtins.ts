// Host builtins for OPA-compiled wasm policies. OPA's wasm leaves some builtins to the host (a module's
// `builtins()` export names them); @open-policy-agent/opa-wasm implements six of those in JavaScript,
// and every other one comes from our own builtin library (rego/builtins, through rego/engine.ts), so
// the Rego engine and the wasm engine share one implementation. Resolved at load: a builtin that
// neither provides is a load error that names it, not a failure of the first request that reaches it.
import {
  builtinContext, BuiltinError, defaultRegistry, fromJSON, toJSON,
  type BuiltinContext, type BuiltinRegistry, type BuiltinSpec, type Value,
} from '../../rego/engine';
import { WasmEvalError } from './wasm-errors';

/**
 * The builtins @open-policy-agent/opa-wasm 1.10 implements in JavaScript. The SDK looks them up before
 * the host's, so for these names its implementation is the one that runs (its `sprintf` differs from
 * OPA's: objects print as `[object Object]`).
 */
export const SDK_BUILTINS: ReadonlySet<string> = new Set([
  'sprintf', 'json.is_valid', 'regex.split', 'yaml.is_valid', 'yaml.marshal', 'yaml.unmarshal',
]);

export type BuiltinSource = 'sdk' | 'library';

export type HostFunction = (...args: unknown[]) => unknown;

export interface HostBuiltinsOptions {
  /** Where library builtins come from (default: the shared default registry). */
  registry?: BuiltinRegistry;
  /** Builtin errors are errors (OPA's --strict-builtin-errors); by default they make the call undefined. */
  strict?: boolean;
}

export class HostBuiltins {
  /** The object handed to opa-wasm's loadPolicy; filled by resolve(), read by the SDK at call time. */
  readonly functions: Record<string, HostFunction> = Object.create(null) as Record<string, HostFunction>;
  private readonly sourceOf = new Map<string, BuiltinSource>();
  private readonly registry: BuiltinRegistry;
  private readonly strict: boolean;
  private ctx: BuiltinContext;

  constructor(opts: HostBuiltinsOptions = {}) {
    this.registry = opts.registry ?? defaultRegistry;
    this.strict = opts.strict ?? false;
    this.ctx = builtinContext({ strict: this.strict });
  }

  /** Where each builtin the module imports comes from. */
  get sources(): ReadonlyMap<string, BuiltinSource> {
    return this.sourceOf;
  }

  /** Provides every builtin the module names; returns (sorted) the names that neither source has. */
  resolve(names: readonly string[]): string[] {
    const missing: string[] = [];
    for (const name of names) {
      if (SDK_BUILTINS.has(name)) {
        this.sourceOf.set(name, 'sdk');
        continue;
      }
      const spec = this.registry.get(name);
      // Relations (walk) yield several results; a host call returns one, and OPA's wasm implements them.
      if (spec === undefined || spec.relation === true) {
        missing.push(name);
        continue;
      }
      this.functions[name] = this.hostFunction(spec);
      this.sourceOf.set(name, 'library');
    }
    return missing.sort();
  }

  /** Starts an evaluation: a fresh builtin context (per-evaluation cache) with this evaluation's clock. */
  begin(nowNs?: bigint): void {
    this.ctx = builtinContext({ strict: this.strict, nowNs });
  }

  /** JSON in (as the SDK dumps the module's values), JSON out (as the SDK loads the result back). */
  private hostFunction(spec: BuiltinSpec): HostFunction {
    return (...args: unknown[]): unknown => {
      let out: Value | undefined;
      try {
        out = spec.fn(args.map(fromJSON), this.ctx);
      } catch (e) {
        // A builtin error makes the call undefined, as in OPA without --strict-builtin-errors: the SDK
        // loads `undefined` as no value.
        if (e instanceof BuiltinError && !this.strict) return undefined;
        throw new WasmEvalError('wasm_builtin_failed', `${spec.name}: ${e instanceof Error ? e.name : typeof e}`);
      }
      return out === undefined ? undefined : toJSON(out);
    };
  }
}
