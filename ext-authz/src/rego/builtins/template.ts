// A small subset of Go's text/template for strings.render_template: {{.a.b}}, {{.}}, {{if}}/{{else}}/
// {{end}}, {{range}}, trim markers {{- -}} and comments. OPA executes with missingkey=error.
import { isObject, isSet, objGet, objEntries, compare, formatNumber, type Value, type ObjectValue } from '../value';

type Node =
  | { t: 'text'; s: string }
  | { t: 'field'; path: string[]; src: string; pos: number }
  | { t: 'if' | 'range'; cond: Node & { t: 'field' }; then: Node[]; else: Node[] };

interface Action {
  body: string;
  pos: number;
}

/** Splits the template into text and trimmed action bodies. */
function lex(src: string): (string | Action)[] {
  const out: (string | Action)[] = [];
  let i = 0;
  while (i < src.length) {
    const open = src.indexOf('{{', i);
    if (open < 0) {
      out.push(src.slice(i));
      break;
    }
    let text = src.slice(i, open);
    let start = open + 2;
    if (src.startsWith('- ', start) || src.startsWith('-\t', start) || src.startsWith('-\n', start)) {
      text = text.replace(/\s+$/, '');
      start += 1;
    }
    out.push(text);
    const close = src.indexOf('}}', start);
    if (close < 0) throw new Error(`template: template:${lineOf(src, open)}: unclosed action`);
    let end = close;
    let trimAfter = false;
    if (src[close - 1] === '-' && /\s/.test(src[close - 2] ?? '')) {
      end = close - 1;
      trimAfter = true;
    }
    const raw = src.slice(start, end);
    const lead = raw.length - raw.trimStart().length;
    out.push({ body: raw.trim(), pos: start + lead });
    i = close + 2;
    if (trimAfter) while (i < src.length && /\s/.test(src[i])) i++;
  }
  return out;
}

function lineOf(src: string, pos: number): number {
  return src.slice(0, pos).split('\n').length;
}

function parseField(body: string, pos: number, src: string): Node & { t: 'field' } {
  if (body === '.') return { t: 'field', path: [], src: body, pos };
  if (!/^(\.[A-Za-z_][A-Za-z0-9_]*)+$/.test(body)) {
    throw new Error(`template: template:${lineOf(src, pos)}: unsupported action ${JSON.stringify(body)}`);
  }
  return { t: 'field', path: body.slice(1).split('.'), src: body, pos };
}

function parse(src: string): Node[] {
  const toks = lex(src);
  let k = 0;
  const block = (inBlock: boolean): [Node[], string] => {
    const nodes: Node[] = [];
    while (k < toks.length) {
      const tok = toks[k++];
      if (typeof tok === 'string') {
        if (tok) nodes.push({ t: 'text', s: tok });
        continue;
      }
      const { body, pos } = tok;
      if (body.startsWith('/*')) continue;
      if (body === 'end' || body === 'else') {
        if (!inBlock) throw new Error(`template: template:${lineOf(src, pos)}: unexpected {{${body}}}`);
        return [nodes, body];
      }
      const m = /^(if|range)\s+(.+)$/.exec(body);
      if (m) {
        const cond = parseField(m[2].trim(), pos, src);
        const [then, stop] = block(true);
        const els = stop === 'else' ? block(true)[0] : [];
        nodes.push({ t: m[1] as 'if' | 'range', cond, then, else: els });
        continue;
      }
      nodes.push(parseField(body, pos, src));
    }
    if (inBlock) throw new Error('template: template:1: unexpected EOF');
    return [nodes, ''];
  };
  return block(false)[0];
}

function lookup(node: Node & { t: 'field' }, dot: Value | undefined, src: string): Value | undefined {
  let cur = dot;
  for (const key of node.path) {
    if (cur === undefined || cur === null) return undefined;
    if (!isObject(cur)) {
      throw new Error(`template: template:${where(src, node.pos)}: executing "template" at <${node.src}>: can't evaluate field ${key}`);
    }
    const next = objGet(cur, key);
    if (next === undefined) {
      throw new Error(
        `template: template:${where(src, node.pos)}: executing "template" at <${node.src}>: map has no entry for key "${key}"`,
      );
    }
    cur = next;
  }
  return cur;
}

/** Go's `line:col` for an action: col is the 0-based byte offset within its line. */
function where(src: string, pos: number): string {
  const before = src.slice(0, pos);
  const nl = before.lastIndexOf('\n');
  return `${lineOf(src, pos)}:${Buffer.byteLength(before.slice(nl + 1))}`;
}

/** How Go prints the JSON-ish values OPA passes in (fmt %v of interface{}). */
function goPrint(v: Value | undefined): string {
  if (v === undefined || v === null) return '<no value>';
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return formatNumber(v);
  if (typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return '[' + v.map(goPrint).join(' ') + ']';
  if (isSet(v)) return '[' + v.sorted().map(goPrint).join(' ') + ']';
  const entries = objEntries(v as ObjectValue).sort((a, b) => compare(a[0], b[0]));
  return 'map[' + entries.map(([k, x]) => `${goPrint(k)}:${goPrint(x)}`).join(' ') + ']';
}

function truthy(v: Value | undefined): boolean {
  if (v === undefined || v === null || v === false || v === 0 || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (isSet(v)) return v.size > 0;
  if (isObject(v)) return objEntries(v).length > 0;
  return true;
}

function exec(nodes: Node[], dot: Value | undefined, src: string): string {
  let out = '';
  for (const n of nodes) {
    if (n.t === 'text') out += n.s;
    else if (n.t === 'field') out += goPrint(lookup(n, dot, src));
    else if (n.t === 'if') out += exec(truthy(lookup(n.cond, dot, src)) ? n.then : n.else, dot, src);
    else {
      const v = lookup(n.cond, dot, src);
      const items = Array.isArray(v) ? v : isSet(v) ? v.sorted() : isObject(v) ? objEntries(v).sort((a, b) => compare(a[0], b[0])).map((e) => e[1]) : [];
      if (items.length === 0) out += exec(n.else, dot, src);
      for (const it of items) out += exec(n.then, it, src);
    }
  }
  return out;
}

export function renderTemplate(src: string, vars: Value): string {
  return exec(parse(src), vars, src);
}
