// An HTTP client for a service named in OPA's configuration (`services.<name>`): its base URL and
// headers, TLS trust (`tls.ca_cert`, `allow_insecure_tls`), and its credentials as OPA applies them:
// a bearer token (inline, or re-read from `token_path` on every request), a client certificate (mTLS),
// or an OAuth2 client-credentials token (RFC 6749 §4.4) cached until 10 s before it expires.
// Used by the bundle downloader and the decision-log uploader. Errors carry codes and never a token,
// a secret or a response body.
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { IncomingHttpHeaders } from 'node:http';
import { CodedError, errnoCode } from '../model/errors';
import type { OpaServiceConfig } from './opa-config';

export type ServiceErrorCode = 'service_request_failed' | 'service_timeout' | 'service_response_too_large' | 'service_credentials' | 'service_tls';

export class ServiceError extends CodedError<ServiceErrorCode> {}

export interface ServiceRequest {
  method: 'GET' | 'POST';
  /** Path below the service URL (`bundles/authz.tar.gz`, `/logs`). */
  path: string;
  headers?: Record<string, string>;
  body?: Buffer;
  /** Time allowed until the response headers arrive; null waits without limit (long polling). */
  headerTimeoutMs?: number | null;
  /** Time allowed for the whole exchange once headers arrived (default 60 s). */
  bodyTimeoutMs?: number;
  /** Responses larger than this are cut off with service_response_too_large (default 256 MiB). */
  maxBodyBytes?: number;
  signal?: AbortSignal;
}

export interface ServiceResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** Seconds of lifetime a cached OAuth2 token must still have to be reused (as in OPA). */
const MIN_TOKEN_LIFETIME_S = 10;

function readFile(file: string, what: string, code: ServiceErrorCode): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (e) {
    throw new ServiceError(code, `cannot read ${what} ${file} (${errnoCode(e)})`);
  }
}

/**
 * `https://h/base` + `bundles/x` → `https://h/base/bundles/x` (one slash between, as OPA joins them);
 * an empty path is the service URL itself (a bundle URL given whole, e.g. `--policy https://...`).
 */
export function joinServiceUrl(base: string, path: string): URL {
  if (path === '') return new URL(base);
  return new URL(`${base.replace(/\/+$/, '')}/${path.replace(/^\/+/, '')}`);
}

/** URL without query or credentials, for error messages and logs. */
export function safeUrl(u: URL): string {
  return `${u.protocol}//${u.host}${u.pathname}`;
}

export class OpaServiceClient {
  readonly name: string;
  private readonly agent: http.Agent;
  /** The token endpoint gets its own agent: same CA trust, never the client certificate. */
  private readonly tokenAgent: https.Agent;
  private readonly isHttps: boolean;
  private token: { value: string; expiresAtMs: number } | null = null;
  private tokenInFlight: Promise<string> | null = null;

  constructor(
    private readonly cfg: OpaServiceConfig,
    private readonly now: () => number = Date.now,
  ) {
    this.name = cfg.name;
    this.isHttps = cfg.url.startsWith('https:');
    const ca = cfg.tls.caCert ? readFile(cfg.tls.caCert, 'CA certificate', 'service_tls') : undefined;
    const tlsCreds = cfg.credentials.clientTls;
    const cert = tlsCreds ? readFile(tlsCreds.cert, 'client certificate', 'service_tls') : undefined;
    const key = tlsCreds ? readFile(tlsCreds.privateKey, 'client private key', 'service_tls') : undefined;
    this.agent = this.isHttps
      ? new https.Agent({ keepAlive: true, ca, cert, key, passphrase: tlsCreds?.privateKeyPassphrase, rejectUnauthorized: !cfg.allowInsecureTls })
      : new http.Agent({ keepAlive: true });
    this.tokenAgent = new https.Agent({ keepAlive: false, ca, rejectUnauthorized: !cfg.allowInsecureTls });
  }

  /** Default response-header timeout from the config (`response_header_timeout_seconds`, 0 = none). */
  get headerTimeoutMs(): number | null {
    return this.cfg.responseHeaderTimeoutSeconds > 0 ? this.cfg.responseHeaderTimeoutSeconds * 1000 : null;
  }

  private async authorization(): Promise<string | undefined> {
    const c = this.cfg.credentials;
    if (c.bearer) {
      const token = c.bearer.tokenPath !== undefined ? readFile(c.bearer.tokenPath, 'bearer token file', 'service_credentials').toString('utf8').trim() : (c.bearer.token ?? '');
      return `${c.bearer.scheme} ${token}`;
    }
    if (c.oauth2) return `Bearer ${await this.oauth2Token()}`;
    return undefined;
  }

  private async oauth2Token(): Promise<string> {
    if (this.token && this.token.expiresAtMs - this.now() > MIN_TOKEN_LIFETIME_S * 1000) return this.token.value;
    this.tokenInFlight ??= this.fetchToken().finally(() => {
      this.tokenInFlight = null;
    });
    return this.tokenInFlight;
  }

  private async fetchToken(): Promise<string> {
    const o = this.cfg.credentials.oauth2!;
    const form = new URLSearchParams({ grant_type: 'client_credentials' });
    if (o.scopes.length > 0) form.set('scope', o.scopes.join(' '));
    for (const [k, v] of Object.entries(o.additionalParameters)) form.set(k, v);
    const body = Buffer.from(form.toString());
    const basic = Buffer.from(`${encodeURIComponent(o.clientId)}:${encodeURIComponent(o.clientSecret)}`).toString('base64');
    let res: ServiceResponse;
    try {
      res = await this.send(new URL(o.tokenUrl), this.tokenAgent, {
        method: 'POST',
        path: '',
        headers: { ...o.additionalHeaders, 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${basic}` },
        body,
        headerTimeoutMs: 10_000,
        maxBodyBytes: 1024 * 1024,
      });
    } catch (e) {
      throw new ServiceError('service_credentials', `OAuth2 token request to ${safeUrl(new URL(o.tokenUrl))} failed (${(e as ServiceError).code ?? 'error'})`);
    }
    if (res.status !== 200) throw new ServiceError('service_credentials', `OAuth2 token endpoint answered HTTP ${res.status}`);
    let doc: { access_token?: unknown; token_type?: unknown; expires_in?: unknown };
    try {
      doc = JSON.parse(res.body.toString('utf8')) as typeof doc;
    } catch {
      throw new ServiceError('service_credentials', 'OAuth2 token endpoint answered with something other than JSON');
    }
    if (typeof doc.access_token !== 'string' || doc.access_token === '') throw new ServiceError('service_credentials', 'OAuth2 token response has no access_token');
    if (typeof doc.token_type !== 'string' || doc.token_type.toLowerCase() !== 'bearer') throw new ServiceError('service_credentials', 'OAuth2 token response is not a bearer token');
    const expiresIn = typeof doc.expires_in === 'number' && doc.expires_in > 0 ? doc.expires_in : 0;
    this.token = { value: doc.access_token.trim(), expiresAtMs: this.now() + expiresIn * 1000 };
    return this.token.value;
  }

  /** Sends a request to the service; resolves with any HTTP status, rejects with ServiceError. */
  async request(req: ServiceRequest): Promise<ServiceResponse> {
    const url = joinServiceUrl(this.cfg.url, req.path);
    const auth = await this.authorization();
    const headers: Record<string, string> = { ...this.cfg.headers, ...req.headers };
    if (auth !== undefined) headers.authorization = auth;
    const res = await this.send(url, this.agent, { ...req, headers, headerTimeoutMs: req.headerTimeoutMs === undefined ? this.headerTimeoutMs : req.headerTimeoutMs });
    if (res.status === 401 && this.cfg.credentials.oauth2) this.token = null; // fetch a fresh token next time
    return res;
  }

  private send(url: URL, agent: http.Agent, req: ServiceRequest): Promise<ServiceResponse> {
    const maxBody = req.maxBodyBytes ?? 256 * 1024 * 1024;
    const where = `${req.method} ${safeUrl(url)}`;
    return new Promise<ServiceResponse>((resolve, reject) => {
      const lib = url.protocol === 'https:' ? https : http;
      const headers: Record<string, string> = { ...req.headers };
      if (req.body) headers['content-length'] = String(req.body.length);
      let timer: NodeJS.Timeout | undefined;
      let settled = false;
      const fail = (e: ServiceError): void => {
        if (settled) return;
        settled = true;
        if (timer) clearTimeout(timer);
        r.destroy();
        reject(e);
      };
      const r = lib.request(url, { method: req.method, headers, agent, signal: req.signal }, (res) => {
        if (timer) clearTimeout(timer);
        timer = setTimeout(() => fail(new ServiceError('service_timeout', `${where}: the response body did not arrive in time`)), req.bodyTimeoutMs ?? 60_000);
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > maxBody) fail(new ServiceError('service_response_too_large', `${where}: response larger than ${maxBody} bytes`));
          else chunks.push(c);
        });
        res.on('end', () => {
          if (settled) return;
          settled = true;
          if (timer) clearTimeout(timer);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) });
        });
        res.on('error', () => fail(new ServiceError('service_request_failed', `${where}: the response was interrupted`)));
      });
      if (req.headerTimeoutMs !== null && req.headerTimeoutMs !== undefined) {
        timer = setTimeout(() => fail(new ServiceError('service_timeout', `${where}: no response headers within ${req.headerTimeoutMs} ms`)), req.headerTimeoutMs);
      }
      r.on('error', (e: NodeJS.ErrnoException) => {
        const why = e.name === 'AbortError' ? 'aborted' : (e.code ?? 'error');
        fail(new ServiceError('service_request_failed', `${where}: request failed (${why})`));
      });
      r.end(req.body);
    });
  }

  /** Closes idle keep-alive connections. */
  close(): void {
    this.agent.destroy();
    this.tokenAgent.destroy();
  }
}
