// Adapter phase 0, shared by every transport: the header section of the original request → the view's
// `headers` and `duplicateHeaders` (docs/architecture.md, "Adapters"). Names are lower-cased; a repeated
// header is joined with "," the way Envoy joins repeats in the CheckRequest header map, and its name is
// recorded once so the facts phase can apply the duplicate rules (docs/threat-model.md T-H2).

export interface CollectedHeaders {
  headers: Record<string, string>;
  duplicates: string[];
}

/** An empty collection; the header map has no prototype, so a header named `__proto__` is just a header. */
export function emptyHeaders(): CollectedHeaders {
  return { headers: Object.create(null) as Record<string, string>, duplicates: [] };
}

/** Adds one header line to the collection. */
export function addHeader(into: CollectedHeaders, name: string, value: string): void {
  const n = name.toLowerCase();
  const headers = into.headers;
  if (n in headers) {
    headers[n] = `${headers[n]},${value}`;
    if (!into.duplicates.includes(n)) into.duplicates.push(n);
  } else headers[n] = value;
}
