// IPv4/IPv6 addresses and CIDR prefixes as BigInt ranges, parsed and printed the way Go's net
// package does (net.ParseIP, net.ParseCIDR, IP.String) for the net.* builtins.

export interface Addr {
  v6: boolean;
  /** 32 or 128 bits, unsigned. */
  bits: bigint;
}

export interface Cidr {
  v6: boolean;
  /** Network address (host bits cleared), prefix length, and the last address in the range. */
  first: bigint;
  prefix: number;
  last: bigint;
}

const width = (v6: boolean): number => (v6 ? 128 : 32);
const V4_MAPPED = 0xffffn << 32n;

function parseV4(s: string): bigint | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  let n = 0n;
  for (const p of parts) {
    // Go rejects empty parts, non-digits, values over 255 and leading zeros.
    if (!/^\d{1,3}$/.test(p) || (p.length > 1 && p[0] === '0') || Number(p) > 255) return undefined;
    n = (n << 8n) | BigInt(p);
  }
  return n;
}

function parseV6(text: string): bigint | undefined {
  let s = text;
  // An embedded IPv4 suffix ("::ffff:1.2.3.4") stands for the last two groups.
  const lastColon = s.lastIndexOf(':');
  if (s.slice(lastColon + 1).includes('.')) {
    const v4 = parseV4(s.slice(lastColon + 1));
    if (v4 === undefined) return undefined;
    s = s.slice(0, lastColon + 1) + (v4 >> 16n).toString(16) + ':' + (v4 & 0xffffn).toString(16);
  }
  const parseGroups = (t: string): bigint[] | undefined => {
    if (t === '') return [];
    const out: bigint[] = [];
    for (const g of t.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
      out.push(BigInt('0x' + g));
    }
    return out;
  };
  const dbl = s.indexOf('::');
  let groups: bigint[];
  if (dbl >= 0) {
    if (dbl !== s.lastIndexOf('::')) return undefined;
    const left = parseGroups(s.slice(0, dbl));
    const right = parseGroups(s.slice(dbl + 2));
    if (!left || !right || left.length + right.length >= 8) return undefined;
    groups = [...left, ...Array<bigint>(8 - left.length - right.length).fill(0n), ...right];
  } else {
    const g = parseGroups(s);
    if (!g || g.length !== 8) return undefined;
    groups = g;
  }
  let n = 0n;
  for (const g of groups) n = (n << 16n) | g;
  return n;
}

/** Go's net.ParseIP; IPv4 literals stay 32-bit here (Go keeps them 16-byte but prints them as IPv4). */
export function parseIP(s: string): Addr | undefined {
  if (s.includes('.') && !s.includes(':')) {
    const v4 = parseV4(s);
    return v4 === undefined ? undefined : { v6: false, bits: v4 };
  }
  if (!s.includes(':')) return undefined;
  const v6 = parseV6(s);
  return v6 === undefined ? undefined : { v6: true, bits: v6 };
}

export function cidrOf(a: Addr, prefix: number): Cidr {
  const w = width(a.v6);
  const hostBits = BigInt(w - prefix);
  const first = (a.bits >> hostBits) << hostBits;
  return { v6: a.v6, first, prefix, last: first | ((1n << hostBits) - 1n) };
}

/** Go's net.ParseCIDR: "address/prefix-length". */
export function parseCIDR(s: string): Cidr | undefined {
  const slash = s.indexOf('/');
  if (slash < 0) return undefined;
  const a = parseIP(s.slice(0, slash));
  const len = s.slice(slash + 1);
  if (!a || !/^\d{1,3}$/.test(len)) return undefined;
  const prefix = Number(len);
  if (prefix > width(a.v6)) return undefined;
  return cidrOf(a, prefix);
}

/** An address in a network's family: IPv4-mapped IPv6 addresses count as IPv4 (Go's IPNet.Contains). */
function inFamily(a: Addr, v6: boolean): bigint | undefined {
  if (a.v6 === v6) return a.bits;
  if (!v6 && a.v6 && a.bits >> 32n === 0xffffn) return a.bits & 0xffffffffn;
  if (v6 && !a.v6) return V4_MAPPED | a.bits;
  return undefined;
}

export function cidrContains(c: Cidr, a: Addr): boolean {
  const b = inFamily(a, c.v6);
  return b !== undefined && b >= c.first && b <= c.last;
}

export function formatAddr(a: Addr): string {
  if (!a.v6) return formatV4(a.bits);
  if (a.bits >> 32n === 0xffffn) return formatV4(a.bits & 0xffffffffn);
  const groups: number[] = [];
  for (let i = 7; i >= 0; i--) groups.push(Number((a.bits >> BigInt(i * 16)) & 0xffffn));
  // RFC 5952: the longest run (two or more) of zero groups becomes "::", the first one on a tie.
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) { best = i; bestLen = j - i; }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best < 0) return hex.join(':');
  return hex.slice(0, best).join(':') + '::' + hex.slice(best + bestLen).join(':');
}

function formatV4(n: bigint): string {
  return [24n, 16n, 8n, 0n].map((s) => String((n >> s) & 0xffn)).join('.');
}

export function formatCidr(c: Cidr): string {
  return `${formatAddr({ v6: c.v6, bits: c.first })}/${c.prefix}`;
}

/** The fewest CIDR blocks covering [first, last] exactly. */
export function rangeToCidrs(v6: boolean, first: bigint, last: bigint): Cidr[] {
  const w = width(v6);
  const out: Cidr[] = [];
  let cur = first;
  while (cur <= last) {
    let host = 0;
    while (host < w) {
      const size = 1n << BigInt(host + 1);
      if (cur % size !== 0n || cur + size - 1n > last) break;
      host++;
    }
    out.push(cidrOf({ v6, bits: cur }, w - host));
    cur += 1n << BigInt(host);
  }
  return out;
}

/** Go's IP.DefaultMask: the classful prefix of an IPv4 address (A: /8, B: /16, C and above: /24). */
export function defaultPrefix(a: Addr): number {
  if (a.v6) return 128;
  const top = Number(a.bits >> 24n);
  return top < 0x80 ? 8 : top < 0xc0 ? 16 : 24;
}
