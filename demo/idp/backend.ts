// Mock identity backend (legacy or new): the OAuth/OIDC client that starts flows and owns their
// state/nonce/PKCE in its own session, its authorization server (oauth-server.ts), and a SAML POST path.
// A callback that reaches a backend which did not start its flow fails here, exactly as a real one would:
// that is what the end-to-end suite and the cutover benchmark count as a broken login.
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { MockAuthorizationServer } from './oauth-server';
import { autoPostForm, readBody, readCookies, sendJson } from './http-util';

export interface PinRegistration {
  kind: 'oauth' | 'saml';
  /** The raw state / RelayState the backend just issued (sent only to the proxy's Pin API). */
  flowKey: string;
  responseMode: 'query' | 'form_post';
}

export interface BackendOptions {
  name: string;
  issuer: string;
  /** The stable external base URL the browser uses (through the proxy), e.g. http://127.0.0.1:8080. */
  externalBase: string;
  clientId?: string;
  callbackPath?: string;
  samlAcsPath?: string;
  samlEntityId?: string;
  port?: number;
  /** Listen address (127.0.0.1 by default; 0.0.0.0 inside a container). */
  host?: string;
  /** Called when a flow starts, before the browser is redirected (the Pin API in the e2e suite). */
  registerPin?: (p: PinRegistration) => Promise<void>;
}

export interface BackendStats {
  flows_started: number;
  logins_ok: number;
  saml_ok: number;
  webhooks: number;
  logouts: number;
  callbacks_rejected: Record<string, number>;
}

export interface RunningBackend {
  name: string;
  url: string;
  port: number;
  as: MockAuthorizationServer;
  stats: BackendStats;
  close(): Promise<void>;
}

interface Flow {
  nonce: string;
  verifier: string;
  mode: 'query' | 'form_post';
}
interface Session {
  flows: Map<string, Flow>;
  saml: Map<string, string>; // RelayState -> AuthnRequest ID
  sub?: string;
}

export async function startBackend(opts: BackendOptions): Promise<RunningBackend> {
  const name = opts.name;
  const clientId = opts.clientId ?? 'demo-client';
  const callbackPath = opts.callbackPath ?? '/oauth2/callback';
  const acsPath = opts.samlAcsPath ?? '/saml/acs';
  const entityId = opts.samlEntityId ?? opts.issuer;
  const redirectUri = opts.externalBase + callbackPath;
  const as = await MockAuthorizationServer.create(opts.issuer);
  as.registerClient(clientId, [redirectUri]);
  const jwks = createLocalJWKSet(as.jwks() as never);
  const sessions = new Map<string, Session>();
  const cookieName = `sid_${name}`;
  const stats: BackendStats = { flows_started: 0, logins_ok: 0, saml_ok: 0, webhooks: 0, logouts: 0, callbacks_rejected: {} };
  let selfUrl = '';

  const reject = (res: http.ServerResponse, error: string, status = 400): void => {
    stats.callbacks_rejected[error] = (stats.callbacks_rejected[error] ?? 0) + 1;
    sendJson(res, status, { ok: false, backend: name, error });
  };
  const session = (req: http.IncomingMessage, res: http.ServerResponse, create: boolean): Session | undefined => {
    const sid = readCookies(req)[cookieName];
    const s = sid ? sessions.get(sid) : undefined;
    if (s || !create) return s;
    const id = crypto.randomBytes(16).toString('base64url');
    const fresh: Session = { flows: new Map(), saml: new Map() };
    sessions.set(id, fresh);
    res.setHeader('Set-Cookie', `${cookieName}=${id}; Path=/; HttpOnly; SameSite=None; Secure`);
    return fresh;
  };

  const server = http.createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) sendJson(res, 500, { ok: false, backend: name, error: 'internal' });
    });
  });

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://backend.invalid');
    const path = url.pathname;
    const body = req.method === 'POST' ? await readBody(req) : '';
    const form = new URLSearchParams(body);
    res.setHeader('X-Served-By', name);

    if (req.method === 'GET' && path === '/login') {
      const s = session(req, res, true)!;
      const state = crypto.randomBytes(24).toString('base64url');
      const mode = url.searchParams.get('response_mode') === 'form_post' ? 'form_post' : 'query';
      const flow: Flow = { nonce: crypto.randomBytes(16).toString('base64url'), verifier: crypto.randomBytes(32).toString('base64url'), mode };
      s.flows.set(state, flow);
      await opts.registerPin?.({ kind: 'oauth', flowKey: state, responseMode: mode });
      stats.flows_started++;
      const q = new URLSearchParams({
        response_type: 'code',
        client_id: clientId,
        redirect_uri: redirectUri,
        state,
        nonce: flow.nonce,
        code_challenge: crypto.createHash('sha256').update(flow.verifier).digest('base64url'),
        code_challenge_method: 'S256',
        response_mode: mode,
        scope: 'openid',
      });
      const hint = url.searchParams.get('login_hint');
      if (hint) q.set('login_hint', hint);
      res.writeHead(302, { Location: `${selfUrl}/authorize?${q}` }).end();
      return;
    }
    if (req.method === 'GET' && path === '/authorize') {
      const p = url.searchParams;
      const r = as.authorize({
        client_id: p.get('client_id') ?? '',
        redirect_uri: p.get('redirect_uri') ?? '',
        state: p.get('state') ?? '',
        nonce: p.get('nonce') ?? '',
        code_challenge: p.get('code_challenge') ?? '',
        response_mode: p.get('response_mode') === 'form_post' ? 'form_post' : 'query',
        login_hint: p.get('login_hint') ?? undefined,
      });
      if (!r.ok) return sendJson(res, 400, { error: r.error });
      const target = p.get('redirect_uri')!;
      if (p.get('response_mode') === 'form_post') return autoPostForm(res, target, r.params);
      res.writeHead(302, { Location: `${target}?${new URLSearchParams(r.params)}` }).end();
      return;
    }
    if (req.method === 'POST' && path === '/token') {
      const t = await as.token({
        code: form.get('code') ?? '',
        client_id: form.get('client_id') ?? '',
        redirect_uri: form.get('redirect_uri') ?? '',
        code_verifier: form.get('code_verifier') ?? '',
      });
      return sendJson(res, t.ok ? 200 : 400, t.ok ? { id_token: t.id_token, access_token: t.access_token, token_type: 'Bearer' } : { error: t.error });
    }
    if (path === '/jwks') return sendJson(res, 200, as.jwks());
    if (path === '/.well-known/openid-configuration') return sendJson(res, 200, as.metadata(selfUrl));
    if (path === '/stats') return sendJson(res, 200, stats);

    if (path === callbackPath) {
      const params = req.method === 'POST' ? form : url.searchParams;
      const state = params.get('state') ?? '';
      const s = session(req, res, false);
      const flow = s?.flows.get(state);
      // A flow this backend never started: its session does not know the state (a broken login).
      if (!s || !flow) return reject(res, 'unknown_flow');
      s.flows.delete(state);
      if (params.get('error')) return sendJson(res, 200, { ok: false, backend: name, error: params.get('error'), cleaned_up: true });
      if (params.get('iss') !== opts.issuer) return reject(res, 'iss_mismatch');
      if ((req.method === 'POST') !== (flow.mode === 'form_post')) return reject(res, 'response_mode_mismatch');
      // The code is redeemed at this backend's own AS; a code from elsewhere fails here.
      const t = await as.token({ code: params.get('code') ?? '', client_id: clientId, redirect_uri: redirectUri, code_verifier: flow.verifier });
      if (!t.ok) return reject(res, `token_${t.error}`);
      try {
        const { payload } = await jwtVerify(t.id_token!, jwks, { issuer: opts.issuer, audience: clientId });
        if (payload.nonce !== flow.nonce) return reject(res, 'nonce_mismatch');
        s.sub = String(payload.sub);
      } catch {
        return reject(res, 'id_token_invalid');
      }
      stats.logins_ok++;
      return sendJson(res, 200, { ok: true, backend: name, sub: s.sub });
    }

    if (req.method === 'GET' && path === '/saml/login') {
      const s = session(req, res, true)!;
      const relay = crypto.randomBytes(18).toString('base64url');
      const id = `_${crypto.randomBytes(16).toString('hex')}`;
      s.saml.set(relay, id);
      await opts.registerPin?.({ kind: 'saml', flowKey: relay, responseMode: 'form_post' });
      stats.flows_started++;
      return autoPostForm(res, `${selfUrl}/saml/sso`, { SAMLRequest: Buffer.from(id).toString('base64'), RelayState: relay });
    }
    if (req.method === 'POST' && path === '/saml/sso') {
      const id = Buffer.from(form.get('SAMLRequest') ?? '', 'base64').toString('utf8');
      const xml =
        `<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ` +
        `ID="_${crypto.randomBytes(8).toString('hex')}" InResponseTo="${id}" Destination="${opts.externalBase}${acsPath}" Version="2.0">` +
        `<saml:Issuer>${entityId}</saml:Issuer><saml:Assertion><saml:Issuer>${entityId}</saml:Issuer>` +
        `<saml:Subject><saml:NameID>alice</saml:NameID></saml:Subject></saml:Assertion></samlp:Response>`;
      return autoPostForm(res, `${opts.externalBase}${acsPath}`, { SAMLResponse: Buffer.from(xml).toString('base64'), RelayState: form.get('RelayState') ?? '' });
    }
    if (req.method === 'POST' && path === acsPath) {
      const s = session(req, res, false);
      const relay = form.get('RelayState') ?? '';
      const expected = s?.saml.get(relay);
      if (!s || !expected) return reject(res, 'unknown_flow');
      s.saml.delete(relay);
      const xml = Buffer.from(form.get('SAMLResponse') ?? '', 'base64').toString('utf8');
      if (!xml.includes(`InResponseTo="${expected}"`)) return reject(res, 'in_response_to_mismatch');
      stats.saml_ok++;
      return sendJson(res, 200, { ok: true, backend: name, sub: 'alice', protocol: 'saml' });
    }
    if (req.method === 'POST' && path.startsWith('/webhooks/')) {
      stats.webhooks++;
      return sendJson(res, 200, { ok: true, backend: name, received: body.length });
    }
    if (req.method === 'POST' && path === '/backchannel-logout') {
      stats.logouts++;
      return sendJson(res, 200, { ok: true, backend: name });
    }
    sendJson(res, 404, { error: 'not_found', backend: name });
  }

  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  selfUrl = `http://127.0.0.1:${port}`;
  return {
    name,
    url: selfUrl,
    port,
    as,
    stats,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
