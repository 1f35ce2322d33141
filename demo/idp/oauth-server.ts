// Mock identity backend, authorization-server half: a small but real OAuth 2.0 / OIDC AS.
// Codes are one-time, bound to client_id, redirect_uri and the PKCE challenge (RFC 7636 S256); the
// authorization response carries the RFC 9207 `iss`; id_tokens are signed with jose (RS256).
import crypto from 'node:crypto';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';

export interface AuthorizeRequest {
  client_id: string;
  redirect_uri: string;
  state: string;
  nonce: string;
  code_challenge: string;
  response_mode: 'query' | 'form_post';
  login_hint?: string;
}

interface CodeGrant {
  client_id: string;
  redirect_uri: string;
  code_challenge: string;
  nonce: string;
  sub: string;
  expires_at: number;
}

export interface TokenResult {
  ok: boolean;
  error?: string;
  id_token?: string;
  access_token?: string;
}

export class MockAuthorizationServer {
  readonly issuer: string;
  readonly kid: string;
  private readonly codes = new Map<string, CodeGrant>();
  private privateKey!: Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];
  private jwk!: Record<string, unknown>;
  /** client_id -> allowed redirect URIs (exact match, RFC 9700 §4.1.3). */
  private readonly clients = new Map<string, Set<string>>();

  private constructor(issuer: string) {
    this.issuer = issuer;
    this.kid = `${new URL(issuer).hostname}-${crypto.randomBytes(4).toString('hex')}`;
  }

  static async create(issuer: string): Promise<MockAuthorizationServer> {
    const as = new MockAuthorizationServer(issuer);
    const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
    as.privateKey = privateKey;
    as.jwk = { ...(await exportJWK(publicKey)), kid: as.kid, alg: 'RS256', use: 'sig' };
    return as;
  }

  registerClient(clientId: string, redirectUris: string[]): void {
    this.clients.set(clientId, new Set(redirectUris));
  }

  jwks(): { keys: Record<string, unknown>[] } {
    return { keys: [this.jwk] };
  }

  metadata(baseUrl: string): Record<string, unknown> {
    return {
      issuer: this.issuer,
      authorization_endpoint: `${baseUrl}/authorize`,
      token_endpoint: `${baseUrl}/token`,
      jwks_uri: `${baseUrl}/jwks`,
      response_modes_supported: ['query', 'form_post'],
      code_challenge_methods_supported: ['S256'],
      authorization_response_iss_parameter_supported: true,
    };
  }

  /** Issues a code for the (auto-approved) user; returns the authorization response parameters. */
  authorize(req: AuthorizeRequest): { ok: true; params: Record<string, string> } | { ok: false; error: string } {
    const allowed = this.clients.get(req.client_id);
    if (!allowed) return { ok: false, error: 'unauthorized_client' };
    // Never redirect to an unregistered URI: that is how codes leak (RFC 6749 §10.6).
    if (!allowed.has(req.redirect_uri)) return { ok: false, error: 'invalid_redirect_uri' };
    if (!req.code_challenge) return { ok: false, error: 'invalid_request' };
    const code = crypto.randomBytes(24).toString('base64url');
    this.codes.set(code, {
      client_id: req.client_id,
      redirect_uri: req.redirect_uri,
      code_challenge: req.code_challenge,
      nonce: req.nonce,
      sub: req.login_hint || 'alice',
      expires_at: Date.now() + 60_000,
    });
    return { ok: true, params: { code, state: req.state, iss: this.issuer } };
  }

  /** The token endpoint: one-time code, same client, same redirect_uri, PKCE verifier. */
  async token(p: { code: string; client_id: string; redirect_uri: string; code_verifier: string }): Promise<TokenResult> {
    const g = this.codes.get(p.code);
    if (!g) return { ok: false, error: 'invalid_grant' };
    this.codes.delete(p.code);
    if (g.expires_at < Date.now()) return { ok: false, error: 'invalid_grant' };
    if (g.client_id !== p.client_id || g.redirect_uri !== p.redirect_uri) return { ok: false, error: 'invalid_grant' };
    const challenge = crypto.createHash('sha256').update(p.code_verifier).digest('base64url');
    if (challenge !== g.code_challenge) return { ok: false, error: 'invalid_grant' };
    const now = Math.floor(Date.now() / 1000);
    const id_token = await new SignJWT({ nonce: g.nonce })
      .setProtectedHeader({ alg: 'RS256', kid: this.kid, typ: 'JWT' })
      .setIssuer(this.issuer)
      .setSubject(g.sub)
      .setAudience(g.client_id)
      .setIssuedAt(now)
      .setExpirationTime(now + 300)
      .sign(this.privateKey);
    return { ok: true, id_token, access_token: crypto.randomBytes(24).toString('base64url') };
  }

  /** Signs an arbitrary token with this issuer's key (tests: logout tokens, bearer tokens). */
  async sign(claims: Record<string, unknown>, header: Record<string, unknown> = {}): Promise<string> {
    return new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: this.kid, ...header }).sign(this.privateKey);
  }
}
