// YAML documents (as the `yaml` package parses them) to Rego values, the way OPA's ghodss/yaml
// conversion goes through JSON: keys become strings, non-finite numbers are rejected.
import { YAMLParseError } from 'yaml';
import type { Value, PlainObject } from '../value';

export function fromYAMLValue(x: unknown): Value {
  if (x === null || x === undefined) return null;
  switch (typeof x) {
    case 'string':
    case 'boolean':
      return x;
    case 'number':
      if (!Number.isFinite(x)) throw new Error('json: unsupported value: ' + String(x));
      return x;
    case 'bigint':
      return Number(x);
  }
  if (Array.isArray(x)) return x.map(fromYAMLValue);
  if (x instanceof Map) {
    const o = Object.create(null) as PlainObject;
    for (const [k, v] of x) o[String(k)] = fromYAMLValue(v);
    return o;
  }
  if (x instanceof Set) return [...x].map(fromYAMLValue);
  if (x instanceof Uint8Array) return Buffer.from(x).toString('utf8');
  if (x instanceof Date) return x.toISOString();
  if (typeof x === 'object') {
    const o = Object.create(null) as PlainObject;
    for (const k of Object.keys(x)) o[k] = fromYAMLValue((x as Record<string, unknown>)[k]);
    return o;
  }
  throw new Error(`yaml: unsupported value of type ${typeof x}`);
}

/** Rewords a `yaml` package parse error in go-yaml's style ("yaml: line 1: ..."). */
export function goYAMLMessage(e: unknown): string {
  if (!(e instanceof YAMLParseError)) return (e as Error).message;
  const line = e.linePos?.[0].line ?? 1;
  const first = e.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
  if (/^Flow sequence/.test(first)) return `yaml: line ${line}: did not find expected ',' or ']'`;
  if (/^Flow map/.test(first)) return `yaml: line ${line}: did not find expected ',' or '}'`;
  return `yaml: line ${line}: ${first}`;
}
