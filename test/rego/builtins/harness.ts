// Test harness for the builtin unit tests: a strict evaluation context, call/json/errorOf bound to it,
// a RegoSet constructor, and the builtins_jwt conformance corpus (tokens and keys).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultRegistry } from '../../../ext-authz/src/rego/builtins/index';
import type { BuiltinContext } from '../../../ext-authz/src/rego/builtins/index';
import { BuiltinError } from '../../../ext-authz/src/rego/errors';
import { RegoSet, toJSON } from '../../../ext-authz/src/rego/value';
import type { Value } from '../../../ext-authz/src/rego/value';

/** A fresh strict context with its own cache; time.now_ns() is `nowNs`. */
export const newCtx = (nowNs = 0n): BuiltinContext => ({ strict: true, nowNs, cache: new Map<string, unknown>(), print() {} });

export interface Harness {
  /** Calls builtin `name` with `args` in this harness's context. */
  call(name: string, ...args: Value[]): Value | undefined;
  /** Result as OPA prints it (sets become sorted arrays); undefined stays undefined. */
  json(name: string, ...args: Value[]): unknown;
  /** The BuiltinError that `name(args)` throws; fails if it returns or throws anything else. */
  errorOf(name: string, ...args: Value[]): BuiltinError;
}

/** call/json/errorOf bound to `ctx` (one context for the whole test file, so its cache is shared). */
export function harnessFor(ctx: BuiltinContext): Harness {
  const call = (name: string, ...args: Value[]) => defaultRegistry.get(name)!.fn(args, ctx);
  return {
    call,
    json(name, ...args) {
      const r = call(name, ...args);
      return r === undefined ? undefined : toJSON(r);
    },
    errorOf(name, ...args) {
      try {
        call(name, ...args);
      } catch (e) {
        if (e instanceof BuiltinError) return e;
        throw e;
      }
      throw new Error(`${name} did not throw`);
    },
  };
}

/** The default harness: strict, time.now_ns() = 0. Jest loads this module afresh for each test file. */
export const { call, json, errorOf } = harnessFor(newCtx());

export const set = (...xs: Value[]) => new RegoSet(xs);

interface JwtCase { note: string; input?: { token?: string }; data?: { keys: Record<string, string> } }

/** The builtins_jwt conformance corpus: its PEM/JWK keys, and the token of the case called `note`. */
export function jwtCorpus(): { keys: Record<string, string>; token(note: string): string } {
  const corpus = JSON.parse(readFileSync(join(__dirname, '../conformance/builtins_jwt.json'), 'utf8')) as { cases: JwtCase[] };
  return {
    keys: corpus.cases.find((c) => c.data)!.data!.keys,
    token: (note) => corpus.cases.find((c) => c.note === note)!.input!.token!,
  };
}
