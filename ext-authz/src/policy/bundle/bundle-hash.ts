// File digests as OPA's bundle signing computes them. Plain files hash their bytes. The structured
// files (`data.json`, `data.yaml`, `.manifest`) hash a canonical form instead, so whitespace and key
// order do not matter: objects as `{` + `"key":value` pairs sorted by key bytes + `}`, arrays as
// `[` + values + `]`, numbers exactly as written in the file, strings JSON-escaped without HTML
// escaping (`<>&` kept, U+2028/U+2029 escaped). A JSON file keeps its number literals, which is why it
// is read by the small parser below rather than JSON.parse.
import { createHash } from 'node:crypto';
import { parse as parseYaml } from 'yaml';
import { BundleError } from './bundle-errors';

/** OPA's hashing algorithm names → node:crypto names. */
const ALGORITHMS: Readonly<Record<string, string>> = {
  'MD5': 'md5',
  'SHA-1': 'sha1',
  'SHA-224': 'sha224',
  'SHA-256': 'sha256',
  'SHA-384': 'sha384',
  'SHA-512': 'sha512',
  'SHA-512-224': 'sha512-224',
  'SHA-512-256': 'sha512-256',
};

export const SIGNING_HASH_ALGORITHM = 'SHA-256';

/** A number kept as the literal text it had in the file. */
class NumberLiteral {
  constructor(readonly text: string) {}
}

type Canonical = null | boolean | string | NumberLiteral | Canonical[] | { [k: string]: Canonical };

const STRUCTURED = new Set(['data.json', 'data.yaml', '.manifest']);

/** Files OPA hashes in canonical form (by base name). `data.yml` is not one of them, as in OPA. */
export function isStructuredFile(path: string): boolean {
  return STRUCTURED.has(path.slice(path.lastIndexOf('/') + 1));
}

class JsonReader {
  private i = 0;

  constructor(private readonly s: string) {}

  fail(): never {
    throw new SyntaxError(`invalid JSON at offset ${this.i}`);
  }

  ws(): void {
    while (this.i < this.s.length && ' \t\n\r'.includes(this.s[this.i])) this.i++;
  }

  document(): Canonical {
    this.ws();
    const v = this.value(0);
    this.ws();
    if (this.i !== this.s.length) this.fail();
    return v;
  }

  value(depth: number): Canonical {
    if (depth > 1000) this.fail();
    const c = this.s[this.i];
    if (c === '{') return this.object(depth);
    if (c === '[') return this.array(depth);
    if (c === '"') return this.string();
    if (this.s.startsWith('true', this.i)) return (this.i += 4), true;
    if (this.s.startsWith('false', this.i)) return (this.i += 5), false;
    if (this.s.startsWith('null', this.i)) return (this.i += 4), null;
    const m = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(this.s.slice(this.i, this.i + 400));
    if (!m) this.fail();
    this.i += m[0].length;
    return new NumberLiteral(m[0]);
  }

  object(depth: number): Canonical {
    const out: { [k: string]: Canonical } = Object.create(null) as { [k: string]: Canonical };
    this.i++;
    this.ws();
    if (this.s[this.i] === '}') return this.i++, out;
    for (;;) {
      this.ws();
      if (this.s[this.i] !== '"') this.fail();
      const k = this.string();
      this.ws();
      if (this.s[this.i++] !== ':') this.fail();
      this.ws();
      out[k] = this.value(depth + 1); // a repeated key: the last one wins, as in Go
      this.ws();
      const c = this.s[this.i++];
      if (c === '}') return out;
      if (c !== ',') this.fail();
    }
  }

  array(depth: number): Canonical {
    const out: Canonical[] = [];
    this.i++;
    this.ws();
    if (this.s[this.i] === ']') return this.i++, out;
    for (;;) {
      this.ws();
      out.push(this.value(depth + 1));
      this.ws();
      const c = this.s[this.i++];
      if (c === ']') return out;
      if (c !== ',') this.fail();
    }
  }

  string(): string {
    const start = this.i;
    this.i++;
    for (;;) {
      const c = this.s.charCodeAt(this.i);
      if (Number.isNaN(c) || c < 0x20) this.fail();
      if (c === 0x22) break;
      if (c === 0x5c) this.i++;
      this.i++;
    }
    this.i++;
    return JSON.parse(this.s.slice(start, this.i)) as string;
  }
}

function fromPlain(v: unknown): Canonical {
  if (v === null || v === undefined) return null;
  if (typeof v === 'number') return new NumberLiteral(String(v));
  if (typeof v === 'boolean' || typeof v === 'string') return v;
  if (Array.isArray(v)) return v.map(fromPlain);
  if (typeof v === 'object') {
    const out: { [k: string]: Canonical } = Object.create(null) as { [k: string]: Canonical };
    for (const [k, x] of Object.entries(v)) out[k] = fromPlain(x);
    return out;
  }
  return String(v);
}

/** A string as Go's encoder writes it with HTML escaping off; lone surrogates become U+FFFD. */
function encodeString(s: string): string {
  const wellFormed = s.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');
  return JSON.stringify(wellFormed).replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

function write(v: Canonical, out: string[]): void {
  if (v === null) out.push('null');
  else if (typeof v === 'boolean') out.push(v ? 'true' : 'false');
  else if (typeof v === 'string') out.push(encodeString(v));
  else if (v instanceof NumberLiteral) out.push(v.text);
  else if (Array.isArray(v)) {
    out.push('[');
    v.forEach((x, i) => {
      if (i > 0) out.push(',');
      write(x, out);
    });
    out.push(']');
  } else {
    out.push('{');
    Object.keys(v).sort(byteOrder).forEach((k, i) => {
      if (i > 0) out.push(',');
      out.push(encodeString(k), ':');
      write(v[k], out);
    });
    out.push('}');
  }
}

/** The canonical text of a structured file (JSON first, then YAML, as OPA reads them). */
export function canonicalStructuredText(path: string, bytes: Buffer): string {
  let text = bytes.toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  let value: Canonical;
  try {
    value = new JsonReader(text).document();
  } catch {
    try {
      value = fromPlain(parseYaml(text) as unknown);
    } catch {
      throw new BundleError('bundle_data_invalid', 'is neither JSON nor YAML, so it cannot be hashed', path);
    }
  }
  const out: string[] = [];
  write(value, out);
  return out.join('');
}

/** The hex digest OPA would list for this file in `.signatures.json`. */
export function bundleFileDigest(path: string, bytes: Buffer, algorithm: string): string {
  const node = ALGORITHMS[algorithm];
  if (node === undefined) throw new BundleError('bundle_hash_algorithm', `unsupported hashing algorithm ${JSON.stringify(algorithm)}`, path);
  const h = createHash(node);
  if (isStructuredFile(path)) h.update(canonicalStructuredText(path, bytes), 'utf8');
  else h.update(bytes);
  return h.digest('hex');
}
