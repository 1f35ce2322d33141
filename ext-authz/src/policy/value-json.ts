// Policy phase, result conversion: the decision Value → plain JSON on the hot path. Rego's toJSON
// handles every Value (sets, non-string keys) with a sort and a defineProperty per key; a decision is
// almost always plain objects, arrays and primitives, which this converts directly with the same output.
import { RegoObject, RegoSet, toJSON } from '../rego/engine';
import type { Value } from '../rego/engine';

/** Marker thrown internally when a value needs the general converter. */
const GENERAL = Symbol('general');

/** True for a key whose UTF-16 order may differ from Rego's byte order, or that assignment mishandles. */
function awkwardKey(k: string): boolean {
  if (k === '__proto__') return true;
  for (let i = 0; i < k.length; i++) {
    const c = k.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdfff) return true;
  }
  return false;
}

function plain(v: Value): unknown {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) {
    const out = new Array<unknown>(v.length);
    for (let i = 0; i < v.length; i++) out[i] = plain(v[i]);
    return out;
  }
  if (v instanceof RegoSet || v instanceof RegoObject) throw GENERAL;
  // Keys sorted as toJSON emits them: without surrogates, UTF-16 order equals UTF-8 byte order.
  const keys = Object.keys(v);
  let sorted = true;
  for (let i = 0; i < keys.length; i++) {
    if (awkwardKey(keys[i])) throw GENERAL;
    if (i > 0 && keys[i - 1] > keys[i]) sorted = false;
  }
  if (!sorted) keys.sort(); // policies mostly build objects in key order already
  const out: Record<string, unknown> = {};
  for (const k of keys) out[k] = plain(v[k]);
  return out;
}

/** Same result as rego's toJSON(v), faster for values made only of plain objects and arrays. */
export function decisionToJson(v: Value): unknown {
  try {
    return plain(v);
  } catch (e) {
    if (e === GENERAL) return toJSON(v);
    throw e;
  }
}
