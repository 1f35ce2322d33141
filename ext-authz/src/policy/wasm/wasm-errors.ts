// Failures of an OPA-compiled wasm policy during evaluation, as coded errors. @open-policy-agent/opa-wasm
// throws bare strings (an `opa_abort` message, "failed to parse json value"), plain objects ("not
// implemented: built-in function ...") and WebAssembly traps; the wasm engine turns each into one of
// these codes, which it reports as the `detail` of a policy_error (docs/reason-codes.md).
import { CodedError } from '../../model/errors';

export type WasmEvalErrorCode =
  /** The module called opa_abort: a conflict or an internal error of OPA's compiled code. */
  | 'wasm_abort'
  /** A builtin the module needs was not provided (the load-time check makes this a bug). */
  | 'wasm_builtin_missing'
  /** A host builtin from the library failed in a way that is not a builtin error. */
  | 'wasm_builtin_failed'
  /** A WebAssembly trap (unreachable, out-of-bounds access, stack overflow). */
  | 'wasm_trap'
  /** Linear memory could not grow (the input or the evaluation needed more than the limit). */
  | 'wasm_memory'
  /** The input cannot be written as JSON. */
  | 'wasm_input_invalid'
  /** The result set is not the `[{"result": value}]` shape of an entrypoint. */
  | 'wasm_result_invalid'
  /** Anything else the SDK threw. */
  | 'wasm_failed';

export class WasmEvalError extends CodedError<WasmEvalErrorCode> {}

/** What an opa-wasm evaluation threw, as a coded error. The message never quotes input values. */
export function asWasmEvalError(e: unknown): WasmEvalError {
  if (e instanceof WasmEvalError) return e;
  if (typeof e === 'string') {
    // opa_abort messages come from OPA's compiled code (e.g. "object insert conflict"); the SDK's own
    // strings are about its inputs ("failed to parse json value").
    if (/failed to parse json/i.test(e)) return new WasmEvalError('wasm_failed', e);
    return new WasmEvalError('wasm_abort', e);
  }
  const name = errorName(e);
  const message = errorMessage(e);
  if (name === 'RangeError' && /memory|grow/i.test(message)) return new WasmEvalError('wasm_memory', message);
  if (name === 'RuntimeError') {
    if (/memory/i.test(message) && /grow|out of/i.test(message)) return new WasmEvalError('wasm_memory', message);
    return new WasmEvalError('wasm_trap', message);
  }
  if (message.startsWith('not implemented: built-in function')) return new WasmEvalError('wasm_builtin_missing', message);
  return new WasmEvalError('wasm_failed', name || typeof e);
}

// By name and shape, not instanceof: errors may come from another realm (as in test sandboxes), and the
// SDK also throws plain `{message}` objects.
function errorName(e: unknown): string {
  const n = e !== null && typeof e === 'object' ? (e as { name?: unknown }).name : undefined;
  return typeof n === 'string' ? n : '';
}

function errorMessage(e: unknown): string {
  const m = e !== null && typeof e === 'object' ? (e as { message?: unknown }).message : undefined;
  return typeof m === 'string' ? m : '';
}
