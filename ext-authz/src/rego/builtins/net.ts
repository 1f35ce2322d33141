// Builtins: net.* (OPA policy reference, "Net"): CIDR containment, intersection, expansion and
// merging for IPv4 and IPv6 (BigInt arithmetic, Go net-package parsing). DNS lookups are refused.
import { BuiltinError } from '../errors';
import type { Value } from '../value';
import { RegoSet, isObject, isSet, objEntries, typeName } from '../value';
import { mustString, operandError, type BuiltinSpec, type TypeDesc } from './registry';
import {
  cidrContains, cidrOf, defaultPrefix, formatAddr, formatCidr, parseCIDR, parseIP, rangeToCidrs, type Cidr,
} from './ip-addr';

/** Refuses to enumerate more than this many addresses (OPA has no cap; a /8 would exhaust memory). */
const EXPAND_LIMIT = 65536;

function mustCidr(name: string, s: string): Cidr {
  const c = parseCIDR(s);
  if (!c) throw new BuiltinError(`${name}: invalid CIDR address: ${s}`);
  return c;
}

/** Does the network contain the address, or the whole of the other network? */
function containsIpOrCidr(name: string, c: Cidr, x: string): boolean {
  const ip = parseIP(x);
  if (ip) return cidrContains(c, ip);
  const inner = parseCIDR(x);
  if (!inner) throw new BuiltinError(`${name}: not a valid textual representation of an IP address or CIDR: ${x}`);
  return cidrContains(c, { v6: inner.v6, bits: inner.first }) && cidrContains(c, { v6: inner.v6, bits: inner.last });
}

/** cidr_contains_matches operands: a string, or a collection whose members are strings or [string, ...]. */
function matchTerms(name: string, v: Value, pos: number): [Value, string][] {
  const str = (x: Value): string => {
    if (typeof x === 'string') return x;
    if (Array.isArray(x) && typeof x[0] === 'string') return x[0];
    throw new BuiltinError(`${name}: operand ${pos} must be string or non-empty array but got ${typeName(x)}`, 'type');
  };
  if (typeof v === 'string') return [[v, v]];
  if (Array.isArray(v)) return v.map((x, i) => [i, str(x)]);
  if (isSet(v)) return v.sorted().map((x) => [x, str(x)]);
  if (isObject(v)) return objEntries(v).map(([k, x]) => [k, str(x)]);
  throw operandError(name, pos, 'string, array, set or object', v);
}

function mergeCidrs(items: Value[]): RegoSet {
  const name = 'net.cidr_merge';
  const ranges: Cidr[] = [];
  for (const x of items) {
    if (typeof x !== 'string') throw operandError(name, 1, 'string', x);
    const ip = parseIP(x);
    // A bare IPv4 address takes its classful default mask, as Go's IP.DefaultMask gives OPA.
    ranges.push(ip ? cidrOf(ip, defaultPrefix(ip)) : mustCidr(name, x));
  }
  const out = new RegoSet();
  for (const v6 of [false, true]) {
    const fam = ranges.filter((r) => r.v6 === v6).sort((a, b) => (a.first < b.first ? -1 : a.first > b.first ? 1 : 0));
    let cur: [bigint, bigint] | undefined;
    const flush = (): void => {
      if (cur) for (const c of rangeToCidrs(v6, cur[0], cur[1])) out.add(formatCidr(c));
    };
    for (const r of fam) {
      if (cur && r.first <= cur[1] + 1n) {
        if (r.last > cur[1]) cur[1] = r.last;
      } else {
        flush();
        cur = [r.first, r.last];
      }
    }
    flush();
  }
  return out;
}

const STRINGS: TypeDesc = { anyOf: [{ array: 'string' }, { set: 'string' }] };
const MATCH_OPERAND: TypeDesc = {
  anyOf: ['string', { array: 'any' }, { set: 'any' }, { object: ['string', 'any'] }],
};

export const netBuiltins: readonly BuiltinSpec[] = [
  {
    name: 'net.cidr_contains',
    category: 'net',
    args: ['string', 'string'],
    result: 'boolean',
    fn: (args) => {
      const name = 'net.cidr_contains';
      const c = mustCidr(name, mustString(name, args, 0));
      return containsIpOrCidr(name, c, mustString(name, args, 1));
    },
  },
  {
    name: 'net.cidr_intersects',
    category: 'net',
    args: ['string', 'string'],
    result: 'boolean',
    fn: (args) => {
      const name = 'net.cidr_intersects';
      const a = mustCidr(name, mustString(name, args, 0));
      const b = mustCidr(name, mustString(name, args, 1));
      return a.v6 === b.v6 && a.first <= b.last && b.first <= a.last;
    },
  },
  {
    name: 'net.cidr_contains_matches',
    category: 'net',
    args: [MATCH_OPERAND, MATCH_OPERAND],
    result: { set: { array: 'any' } },
    fn: (args) => {
      const name = 'net.cidr_contains_matches';
      const cidrs = matchTerms(name, args[0], 1).map(([k, s]) => [k, mustCidr(name, s)] as const);
      const xs = matchTerms(name, args[1], 2);
      const out = new RegoSet();
      for (const [k1, c] of cidrs) {
        for (const [k2, x] of xs) if (containsIpOrCidr(name, c, x)) out.add([k1, k2]);
      }
      return out;
    },
  },
  {
    name: 'net.cidr_expand',
    category: 'net',
    args: ['string'],
    result: { set: 'string' },
    fn: (args) => {
      const name = 'net.cidr_expand';
      const c = mustCidr(name, mustString(name, args, 0));
      if (c.last - c.first >= BigInt(EXPAND_LIMIT)) {
        throw new BuiltinError(`${name}: CIDR ${formatCidr(c)} has more than ${EXPAND_LIMIT} addresses`);
      }
      const out = new RegoSet();
      for (let b = c.first; b <= c.last; b++) out.add(formatAddr({ v6: c.v6, bits: b }));
      return out;
    },
  },
  {
    name: 'net.cidr_is_valid',
    category: 'net',
    args: ['string'],
    result: 'boolean',
    fn: (args) => parseCIDR(mustString('net.cidr_is_valid', args, 0)) !== undefined,
  },
  {
    name: 'net.cidr_merge',
    category: 'net',
    args: [STRINGS],
    result: { set: 'string' },
    fn: (args) => {
      const v = args[0];
      if (Array.isArray(v)) return mergeCidrs(v);
      if (isSet(v)) return mergeCidrs(v.sorted());
      throw operandError('net.cidr_merge', 1, 'set or array', v);
    },
  },
  {
    name: 'net.cidr_overlap',
    category: 'net',
    args: ['string', 'string'],
    result: 'boolean',
    deprecated: true,
    // The pre-0.19 name of cidr_contains for a single address.
    fn: (args) => {
      const name = 'net.cidr_overlap';
      const c = mustCidr(name, mustString(name, args, 0));
      const s = mustString(name, args, 1);
      const ip = parseIP(s);
      if (!ip) throw new BuiltinError(`${name}: invalid IP address: ${s}`);
      return cidrContains(c, ip);
    },
  },
  {
    name: 'net.lookup_ip_addr',
    category: 'net',
    args: ['string'],
    result: { set: 'string' },
    nondeterministic: true,
    // Policies here must not reach the network or DNS: always a builtin error.
    fn: (args) => {
      mustString('net.lookup_ip_addr', args, 0);
      throw new BuiltinError('net.lookup_ip_addr: not supported');
    },
  },
];
