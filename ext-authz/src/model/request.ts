// The request as the forwarding layer saw it: the one shape every adapter (gRPC CheckRequest, Envoy
// http_service, nginx/Traefik/Caddy forward-auth) produces and the facts phase reads. docs/architecture.md.

/**
 * One HTTP request as the forwarding layer saw it, built by the gRPC adapter (from a CheckRequest's
 * attributes.request.http) or the HTTP forward-auth adapter (from X-Original-* / X-Forwarded-*).
 */
export interface RequestView {
  method: string;
  scheme: string;
  /** :authority / Host as received (not normalised; lower-casing happens in facts). */
  host: string;
  /** Raw path including the query string, as Envoy forwards it (`path` attribute). */
  path: string;
  /** Header names lower-cased. Envoy joins repeated headers with ","; `duplicateHeaders` lists them. */
  headers: Record<string, string>;
  duplicateHeaders: string[];
  /** The body as text for the parsers (form, JSON): `rawBody` read as UTF-8, when buffered. */
  body?: string;
  /**
   * The body bytes exactly as received, set by every adapter whenever there is a body: Envoy's
   * `raw_body` (pack_as_bytes), the UTF-8 bytes of Envoy's `body` string, or the bytes the HTTP
   * listener read. Webhook signatures are verified over these, never over re-encoded text (T-W3).
   */
  rawBody?: Uint8Array;
  bodyTruncated: boolean;
  /** Peer address from Envoy's source.address (never from X-Forwarded-For). */
  sourceIp?: string;
  protocol?: string;
  /** Request id (x-request-id) for logs. */
  requestId?: string;
}
