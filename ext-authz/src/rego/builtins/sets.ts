// Builtins: sets — union and intersection over a set of sets, the `|` (or) and `&` (and) operators,
// and the deprecated set_diff. Set difference by `-` lives in numbers.ts (`minus` takes numbers or sets).
import { BuiltinError } from '../errors';
import { RegoSet, isSet, typeName, type Value } from '../value';
import { operandError, type BuiltinSpec, type TypeDesc } from './registry';
import { setDifference } from './numbers';

const SET: TypeDesc = { set: 'any' };
const SET_OF_SETS: TypeDesc = { set: { set: 'any' } };

function mustSet(name: string, args: Value[], i: number): RegoSet {
  const v = args[i];
  if (!isSet(v)) throw operandError(name, i + 1, 'set', v);
  return v;
}

/** The members of a set of sets, each checked to be a set. */
function setsOf(name: string, args: Value[]): RegoSet[] {
  const outer = mustSet(name, args, 0);
  const out: RegoSet[] = [];
  for (const s of outer) {
    if (!isSet(s)) throw new BuiltinError(`${name}: operand 1 must be set of sets but got set containing ${typeName(s)}`, 'type');
    out.push(s);
  }
  return out;
}

function unionOf(sets: readonly RegoSet[]): RegoSet {
  const out = new RegoSet();
  for (const s of sets) for (const x of s) out.add(x);
  return out;
}

/** intersection(set()) is the empty set (OPA), not "everything". */
function intersectionOf(sets: readonly RegoSet[]): RegoSet {
  if (sets.length === 0) return new RegoSet();
  const ordered = [...sets].sort((a, b) => a.size - b.size);
  const out = new RegoSet();
  for (const x of ordered[0]) if (ordered.every((s) => s.has(x))) out.add(x);
  return out;
}

function binary(name: string, f: (a: RegoSet, b: RegoSet) => RegoSet, deprecated = false): BuiltinSpec {
  const spec: BuiltinSpec = {
    name,
    category: 'sets',
    args: [SET, SET],
    result: SET,
    fn: (args) => f(mustSet(name, args, 0), mustSet(name, args, 1)),
  };
  if (deprecated) spec.deprecated = true;
  return spec;
}

export const setsBuiltins: readonly BuiltinSpec[] = [
  { name: 'union', category: 'sets', args: [SET_OF_SETS], result: SET, fn: (args) => unionOf(setsOf('union', args)) },
  {
    name: 'intersection',
    category: 'sets',
    args: [SET_OF_SETS],
    result: SET,
    fn: (args) => intersectionOf(setsOf('intersection', args)),
  },
  binary('or', (a, b) => unionOf([a, b])),
  binary('and', (a, b) => intersectionOf([a, b])),
  binary('set_diff', setDifference, true),
];
