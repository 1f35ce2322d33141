// OPA's decision-log masking rules (OPA docs, "Decision Logs" → masking): the mask decision returns a
// list of rules, each a JSON-pointer-like path under /input, /result or /nd_builtin_cache (segments
// separated by "/", percent-escaped), or an object {op: "remove" | "upsert", path, value}. Removed
// paths are recorded in the event's `erased`, upserted ones in `masked`; a path that is not there is
// left alone and not recorded. applyMaskRules changes the event it is given: the uploader passes its
// own copy, so a caller's event is never modified.
import { CodedError } from '../model/errors';

export type MaskRule = string | { op?: string; path?: unknown; value?: unknown };

export interface ParsedMaskRule {
  op: 'remove' | 'upsert';
  /** Decoded segments, the first being input | result | nd_builtin_cache. */
  parts: string[];
  value: unknown;
  /** The path as recorded in erased / masked. */
  text: string;
}

const ROOTS = new Set(['input', 'result', 'nd_builtin_cache']);

export class MaskRuleError extends CodedError<'mask_rule_invalid'> {
  constructor(message: string) {
    super('mask_rule_invalid', message);
  }
}

function decode(seg: string): string {
  try {
    return decodeURIComponent(seg);
  } catch {
    throw new MaskRuleError('mask path has a malformed % escape');
  }
}

export function parseMaskRule(rule: MaskRule): ParsedMaskRule {
  let op: string = 'remove';
  let path: unknown = rule;
  let value: unknown;
  if (typeof rule === 'object' && rule !== null) {
    if (rule.op !== undefined) op = rule.op;
    path = rule.path;
    value = rule.value;
  }
  if (op !== 'remove' && op !== 'upsert') throw new MaskRuleError(`mask op ${JSON.stringify(op)} is not supported`);
  if (typeof path !== 'string' || path === '') throw new MaskRuleError('mask must be a non-empty path');
  if (!path.startsWith('/')) throw new MaskRuleError('mask must be slash-prefixed');
  const parts = path.slice(1).split('/').map(decode);
  if (!ROOTS.has(parts[0])) throw new MaskRuleError(`mask prefix not allowed: ${parts[0]}`);
  return { op, parts, value, text: `/${parts.map((p) => encodeURIComponent(p)).join('/')}` };
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function index(seg: string, len: number): number {
  return /^\d+$/.test(seg) && Number(seg) < len ? Number(seg) : -1;
}

/** Removes the value at `path` inside `node`; false when it is not there. */
function remove(node: unknown, path: string[]): boolean {
  let cur = node;
  for (let i = 0; i < path.length - 1; i++) {
    if (isObject(cur) && Object.prototype.hasOwnProperty.call(cur, path[i])) cur = cur[path[i]];
    else if (Array.isArray(cur) && index(path[i], cur.length) >= 0) cur = cur[index(path[i], cur.length)];
    else return false;
  }
  const last = path[path.length - 1];
  if (isObject(cur) && Object.prototype.hasOwnProperty.call(cur, last)) {
    delete cur[last];
    return true;
  }
  if (Array.isArray(cur) && index(last, cur.length) >= 0) {
    cur.splice(index(last, cur.length), 1);
    return true;
  }
  return false;
}

/** Sets `value` at `path`, creating objects on the way; false when an array or scalar is in the way. */
function upsert(node: Record<string, unknown>, path: string[], value: unknown): boolean {
  let cur: unknown = node;
  for (let i = 0; i < path.length - 1; i++) {
    if (isObject(cur)) {
      if (!Object.prototype.hasOwnProperty.call(cur, path[i])) cur[path[i]] = {};
      cur = cur[path[i]];
    } else if (Array.isArray(cur) && index(path[i], cur.length) >= 0) cur = cur[index(path[i], cur.length)];
    else return false;
  }
  const last = path[path.length - 1];
  if (isObject(cur)) {
    cur[last] = value;
    return true;
  }
  if (Array.isArray(cur) && index(last, cur.length) >= 0) {
    cur[index(last, cur.length)] = value;
    return true;
  }
  return false;
}

/**
 * Applies the rules to `event` (an OPA decision-log event, already a plain JSON copy owned by the
 * caller) in place. Rules that do not parse are returned as errors and skipped, like OPA's.
 */
export function applyMaskRules(event: Record<string, unknown>, rules: readonly MaskRule[]): MaskRuleError[] {
  const errors: MaskRuleError[] = [];
  const erased = Array.isArray(event.erased) ? (event.erased as string[]) : [];
  const masked = Array.isArray(event.masked) ? (event.masked as string[]) : [];
  for (const raw of rules) {
    let r: ParsedMaskRule;
    try {
      r = parseMaskRule(raw);
    } catch (e) {
      errors.push(e as MaskRuleError);
      continue;
    }
    const [root, ...rest] = r.parts;
    if (!Object.prototype.hasOwnProperty.call(event, root) || event[root] === undefined) continue;
    if (r.op === 'remove') {
      if (rest.length === 0) delete event[root];
      else if (!remove(event[root], rest)) continue;
      erased.push(r.text);
    } else {
      if (rest.length === 0) event[root] = r.value;
      else if (!isObject(event[root]) || !upsert(event[root] as Record<string, unknown>, rest, r.value)) continue;
      masked.push(r.text);
    }
  }
  if (erased.length > 0) event.erased = erased;
  if (masked.length > 0) event.masked = masked;
  return errors;
}
