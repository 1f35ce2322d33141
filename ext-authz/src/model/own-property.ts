// Keys from outside (Envoy metadata, policy results, data documents) can be any string, `__proto__`
// included. A plain assignment `obj['__proto__'] = v` replaces the object's prototype instead of adding
// the key: the key vanishes and v's properties appear as inherited ones. Objects built from such keys
// either have no prototype (Object.create(null)) or are written through setOwn.

/** Sets `obj[key] = value` as an own, enumerable property, whatever the key. */
export function setOwn<T>(obj: Record<string, T>, key: string, value: T): void {
  if (key === '__proto__') Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
  else obj[key] = value;
}
