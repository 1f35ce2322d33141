// Builtins: uuid.*, rand.intn, http.send, opa.runtime (OPA policy reference). Non-deterministic
// results are memoised per evaluation in ctx.cache, so one call site sees one value per evaluation.
import { randomInt, randomUUID } from 'node:crypto';
import { BuiltinError } from '../errors';
import type { Value } from '../value';
import { makeObject } from '../value';
import { mustInteger, mustString, type BuiltinContext, type BuiltinSpec } from './registry';

function memo(ctx: BuiltinContext, key: string, make: () => Value): Value {
  const hit = ctx.cache.get(key);
  if (hit !== undefined) return hit as Value;
  const v = make();
  ctx.cache.set(key, v);
  return v;
}

/** The 16 bytes of a UUID in any of the forms Go's google/uuid accepts, or undefined. */
function uuidBytes(s: string): Buffer | undefined {
  let t = s;
  if (t.length === 45 && t.toLowerCase().startsWith('urn:uuid:')) t = t.slice(9);
  else if (t.length === 38 && t[0] === '{' && t[37] === '}') t = t.slice(1, 37);
  if (t.length === 36) {
    if (t[8] !== '-' || t[13] !== '-' || t[18] !== '-' || t[23] !== '-') return undefined;
    t = t.replace(/-/g, '');
  }
  if (!/^[0-9a-fA-F]{32}$/.test(t)) return undefined;
  return Buffer.from(t, 'hex');
}

const GREGORIAN_TO_UNIX_100NS = 0x01b21dd213814000n;

function variantName(b: number): string {
  if ((b & 0x80) === 0) return 'Reserved';
  if ((b & 0xc0) === 0x80) return 'RFC4122';
  if ((b & 0xe0) === 0xc0) return 'Microsoft';
  return 'Future';
}

/** uuid.parse: version and variant, plus time / clock sequence / node for time-based (v1, v2) UUIDs. */
function parseUuid(s: string): Value | undefined {
  const b = uuidBytes(s);
  if (!b) return undefined;
  const version = b[6] >> 4;
  const entries: [Value, Value][] = [['version', version], ['variant', variantName(b[8])]];
  if (version === 1 || version === 2) {
    const timeLow = BigInt(b.readUInt32BE(0));
    const timeMid = BigInt(b.readUInt16BE(4));
    const timeHi = BigInt(b.readUInt16BE(6) & 0x0fff);
    const ts = (timeHi << 48n) | (timeMid << 32n) | timeLow;
    // 100 ns ticks since 1582-10-15 to Unix nanoseconds (exceeds 2^53: the nearest double).
    entries.push(['time', Number((ts - GREGORIAN_TO_UNIX_100NS) * 100n)]);
    entries.push(['clocksequence', ((b[8] & 0x3f) << 8) | b[9]]);
    const node = b.subarray(10, 16);
    entries.push(['nodeid', [...node].map((x) => x.toString(16).padStart(2, '0')).join('-')]);
    const scope = node[0] & 0x02 ? 'local' : 'global';
    const cast = node[0] & 0x01 ? 'multicast' : 'unicast';
    entries.push(['macvariables', `${scope}:${cast}`]);
    if (version === 2) {
      entries.push(['id', b.readUInt32BE(0)]);
      entries.push(['domain', ['Person', 'Group', 'Org'][b[9]] ?? `Domain${b[9]}`]);
    }
  }
  return makeObject(entries);
}

export const miscBuiltins: readonly BuiltinSpec[] = [
  {
    name: 'uuid.rfc4122',
    category: 'misc',
    args: ['string'],
    result: 'string',
    nondeterministic: true,
    // The same key gives the same UUID within one evaluation (OPA caches it per query).
    fn: (args, ctx) => memo(ctx, `uuid.rfc4122\u0000${mustString('uuid.rfc4122', args, 0)}`, () => randomUUID()),
  },
  {
    name: 'uuid.parse',
    category: 'misc',
    args: ['string'],
    result: { object: ['string', 'any'] },
    fn: (args) => parseUuid(mustString('uuid.parse', args, 0)),
  },
  {
    name: 'rand.intn',
    category: 'misc',
    args: ['string', 'number'],
    result: 'number',
    nondeterministic: true,
    // A number in [0, |n|), 0 for n = 0; memoised per (str, n) within one evaluation.
    fn: (args, ctx) => {
      const str = mustString('rand.intn', args, 0);
      const n = Math.abs(mustInteger('rand.intn', args, 1));
      return memo(ctx, `rand.intn\u0000${str}\u0000${n}`, () => {
        if (n === 0) return 0;
        return n <= 2 ** 48 ? randomInt(n) : Math.floor(Math.random() * n);
      });
    },
  },
  {
    name: 'http.send',
    category: 'misc',
    args: [{ object: ['string', 'any'] }],
    result: { object: ['any', 'any'] },
    nondeterministic: true,
    // Decisions must not depend on outbound calls from policy; mock it with `with` in tests.
    fn: () => {
      throw new BuiltinError('http.send: not supported');
    },
  },
  {
    name: 'opa.runtime',
    category: 'misc',
    args: [],
    result: { object: ['string', 'any'] },
    nondeterministic: true,
    // No config or environment is exposed to policies.
    fn: () => makeObject([]),
  },
];
