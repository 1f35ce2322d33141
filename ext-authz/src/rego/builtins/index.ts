// The default builtin registry: every category module's specs, registered once at load.
import { BuiltinRegistry } from './registry';
import { aggregatesBuiltins } from './aggregates';
import { arraysBuiltins } from './arrays';
import { comparisonBuiltins } from './comparison';
import { cryptoBuiltins } from './crypto';
import { encodingBuiltins } from './encoding';
import { globBuiltins } from './glob';
import { jsonBuiltins } from './json';
import { jwtBuiltins } from './jwt';
import { miscBuiltins } from './misc';
import { netBuiltins } from './net';
import { numbersBuiltins } from './numbers';
import { objectsBuiltins } from './objects';
import { regexBuiltins } from './regex';
import { semverBuiltins } from './semver';
import { setsBuiltins } from './sets';
import { stringsBuiltins } from './strings';
import { timeBuiltins } from './time';
import { typesBuiltins } from './types';
import { unitsBuiltins } from './units';

export function createDefaultRegistry(): BuiltinRegistry {
  const r = new BuiltinRegistry();
  for (const specs of [
    aggregatesBuiltins, arraysBuiltins, comparisonBuiltins, cryptoBuiltins, encodingBuiltins,
    globBuiltins, jsonBuiltins, jwtBuiltins, miscBuiltins, netBuiltins, numbersBuiltins,
    objectsBuiltins, regexBuiltins, semverBuiltins, setsBuiltins, stringsBuiltins, timeBuiltins,
    typesBuiltins, unitsBuiltins,
  ]) {
    r.register(specs);
  }
  return r;
}

/** Shared default registry (builtins are stateless). */
export const defaultRegistry: BuiltinRegistry = createDefaultRegistry();

export { BuiltinRegistry } from './registry';
export type { BuiltinSpec, BuiltinContext, BuiltinFn, TypeDesc } from './registry';
