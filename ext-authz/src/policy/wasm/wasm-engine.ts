// Policy phase: a policy OPA compiled to WebAssembly (`opa build -t wasm`), run by
// @open-policy-agent/opa-wasm behind the PolicyEngine interface (docs/architecture.md). Loading checks
// everything a request would otherwise trip over — the module itself, the entrypoint, the data, and
// every builtin it leaves to the host — and evaluation never throws: a failure is a coded result the
// pipeline turns into a deny, like the Rego engine's.
import { createHash } from 'node:crypto';
import { loadPolicy, type LoadedPolicy } from '@open-policy-agent/opa-wasm';
import type { BuiltinRegistry } from '../../rego/engine';
import { decisionRef, PolicyLoadError } from '../engine';
import type { EngineResult, EvalOptions, PolicyEngine } from '../engine';
import { HostBuiltins, type BuiltinSource } from './host-builtins';
import { asWasmEvalError, WasmEvalError } from './wasm-errors';

export interface WasmEngineOptions {
  /** The module: a bundle's `/policy.wasm`. */
  wasm: Uint8Array;
  /** The base data document (a bundle's merged data), an object; default `{}`. */
  data?: unknown;
  /** The entrypoint: `callback/decision` (default), `envoy/authz/allow`, or `data.a.b`. */
  entrypoint?: string;
  /** The bundle's revision; default a hash of the module and the data. */
  revision?: string;
  /** Where host builtins come from (default: the shared builtin library). */
  registry?: BuiltinRegistry;
  /** Limit of the module's linear memory in 64 KiB pages (default 1024, 64 MiB). */
  maxMemoryPages?: number;
}

export const DEFAULT_WASM_ENTRYPOINT = 'callback/decision';
export const DEFAULT_MAX_MEMORY_PAGES = 1024;
/** Pages the SDK starts a module with (its own default). */
const INITIAL_PAGES = 5;

/** The wasm ABI exports read at load (OPA's documented ABI; the SDK does not expose builtins()). */
interface AbiExports {
  builtins(): number;
  opa_json_dump(addr: number): number;
  opa_heap_ptr_get(): number;
  opa_heap_ptr_set(addr: number): void;
}

const ENCODER = new TextEncoder();
const DECODER = new TextDecoder();

export class WasmPolicyEngine implements PolicyEngine {
  readonly kind = 'wasm';

  private constructor(
    private policy: LoadedPolicy | null,
    private readonly entrypoints: Readonly<Record<string, number>>,
    private readonly host: HostBuiltins,
    private readonly entrypointId: number,
    readonly decisionPath: string,
    readonly revision: string,
  ) {}

  /** Loads a module; throws PolicyLoadError (start-up fails loudly, with a code). */
  static async load(opts: WasmEngineOptions): Promise<WasmPolicyEngine> {
    const ref = decisionRef(opts.entrypoint ?? DEFAULT_WASM_ENTRYPOINT);
    const entrypoint = ref.slice('data.'.length).split('.').join('/');
    const data = opts.data ?? {};
    if (typeof data !== 'object' || data === null || Array.isArray(data)) {
      throw new PolicyLoadError('policy_data_error', 'policy.wasm: the data document must be an object');
    }
    const maximum = opts.maxMemoryPages ?? DEFAULT_MAX_MEMORY_PAGES;
    const host = new HostBuiltins({ registry: opts.registry });
    let policy: LoadedPolicy;
    try {
      policy = await loadPolicy(opts.wasm, { initial: Math.min(INITIAL_PAGES, maximum), maximum }, host.functions);
    } catch (e) {
      throw new PolicyLoadError('policy_wasm_invalid', `policy.wasm does not load: ${loadFailure(e)}`);
    }

    const missing = host.resolve(moduleBuiltins(policy));
    if (missing.length) {
      throw new PolicyLoadError(
        'policy_builtin_missing',
        `policy.wasm needs builtins that neither opa-wasm nor the builtin library provides: ${missing.join(', ')}`,
      );
    }

    const entrypoints = policy.entrypoints as Record<string, number>;
    if (!Object.prototype.hasOwnProperty.call(entrypoints, entrypoint)) {
      const known = Object.keys(entrypoints).sort().join(', ');
      throw new PolicyLoadError('decision_path_invalid', `policy.wasm has no entrypoint ${entrypoint} (it has: ${known || 'none'})`);
    }

    try {
      policy.setData(data);
    } catch (e) {
      throw new PolicyLoadError('policy_data_error', `policy.wasm: the data document does not load: ${loadFailure(e)}`);
    }
    const revision = opts.revision ?? contentRevision(opts.wasm, data);
    return new WasmPolicyEngine(policy, entrypoints, host, entrypoints[entrypoint], ref, revision);
  }

  /** Where each builtin the module leaves to the host comes from (for logs and tests). */
  get builtinSources(): ReadonlyMap<string, BuiltinSource> {
    return this.host.sources;
  }

  /**
   * Evaluates the entrypoint. Never throws. The module runs to completion: opa-wasm cannot interrupt
   * it, so `deadlineMs` is not enforced here (the callback policy takes microseconds).
   */
  evaluate(input: unknown, opts: EvalOptions = {}): EngineResult {
    const policy = this.policy;
    if (policy === null) return { ok: false, code: 'policy_error', detail: 'wasm_closed' };
    try {
      this.host.begin(opts.nowNs === undefined ? undefined : BigInt(opts.nowNs));
      const rs: unknown = policy.evaluate(input === undefined ? undefined : jsonBuffer(input), this.entrypointId);
      if (!Array.isArray(rs) || rs.length > 1) throw new WasmEvalError('wasm_result_invalid', 'not a result set of at most one row');
      if (rs.length === 0) return { ok: false, code: 'policy_undefined', detail: `${this.decisionPath} is undefined` };
      const row = rs[0] as unknown;
      if (typeof row !== 'object' || row === null || !('result' in row)) {
        throw new WasmEvalError('wasm_result_invalid', 'a result row without "result"');
      }
      return { ok: true, value: (row as { result: unknown }).result };
    } catch (e) {
      // Messages can come from the module (abort text); operators get the code only, as from Rego.
      return { ok: false, code: 'policy_error', detail: asWasmEvalError(e).code };
    }
  }

  /** Another entrypoint of the same module (`system/log/mask` when it was built with `-e system/log/mask`). */
  evaluatePath(path: string, input: unknown): EngineResult {
    let ep: string;
    try {
      ep = decisionRef(path).slice('data.'.length).split('.').join('/');
    } catch {
      return { ok: false, code: 'policy_undefined', detail: 'path_invalid' };
    }
    if (!Object.prototype.hasOwnProperty.call(this.entrypoints, ep)) return { ok: false, code: 'policy_undefined', detail: `no entrypoint ${ep}` };
    const policy = this.policy;
    if (policy === null) return { ok: false, code: 'policy_error', detail: 'wasm_closed' };
    try {
      this.host.begin();
      const rs: unknown = policy.evaluate(jsonBuffer(input), this.entrypoints[ep]);
      if (!Array.isArray(rs) || rs.length !== 1) return { ok: false, code: 'policy_undefined', detail: `${ep} is undefined` };
      return { ok: true, value: (rs[0] as { result: unknown }).result };
    } catch (e) {
      return { ok: false, code: 'policy_error', detail: asWasmEvalError(e).code };
    }
  }

  async close(): Promise<void> {
    this.policy = null;
  }
}

/**
 * The input as JSON bytes in a fresh ArrayBuffer. opa-wasm treats a falsy input (`null`, `false`, `0`,
 * `""`) as no input at all; JSON text always reaches the module as the value it is. The buffer is made
 * here (not taken from TextEncoder) so that the SDK's `instanceof ArrayBuffer` holds in every realm.
 */
function jsonBuffer(input: unknown): ArrayBuffer {
  let text: string | undefined;
  try {
    text = JSON.stringify(input);
  } catch (e) {
    throw new WasmEvalError('wasm_input_invalid', e instanceof Error ? e.name : 'not JSON');
  }
  if (typeof text !== 'string') throw new WasmEvalError('wasm_input_invalid', 'not JSON');
  const bytes = ENCODER.encode(text);
  const buf = new ArrayBuffer(bytes.byteLength);
  new Uint8Array(buf).set(bytes);
  return buf;
}

/** The names in the module's `builtins()` map, read through the ABI (the heap is left as it was). */
function moduleBuiltins(policy: LoadedPolicy): string[] {
  const abi = (policy.wasmInstance as unknown as { exports: AbiExports }).exports;
  const mark = abi.opa_heap_ptr_get();
  try {
    const addr = abi.opa_json_dump(abi.builtins());
    const mem = new Uint8Array((policy.mem as unknown as { buffer: ArrayBuffer }).buffer);
    let end = addr;
    while (end < mem.length && mem[end] !== 0) end++;
    const map = JSON.parse(DECODER.decode(mem.subarray(addr, end))) as Record<string, number>;
    return Object.keys(map);
  } finally {
    abi.opa_heap_ptr_set(mark);
  }
}

function loadFailure(e: unknown): string {
  if (typeof e === 'string') return e;
  if (e instanceof Error) return `${e.name}: ${e.message}`;
  if (e !== null && typeof e === 'object' && typeof (e as { message?: unknown }).message === 'string') {
    return (e as { message: string }).message;
  }
  return String(e);
}

function contentRevision(wasm: Uint8Array, data: unknown): string {
  return createHash('sha256').update(wasm).update(JSON.stringify(data)).digest('hex').slice(0, 16);
}
