// Secret hygiene for everything we emit (docs/threat-model.md T-L1..T-L5). Request values reach a log,
// a decision-log event or an error line only through the renderers below, and they mask by
// construction: every parameter value — `;` path parameters, query, form, fragment — is REDACTED
// unless its name is on SHOWN_PARAMS; headers are dropped unless on LOGGABLE_HEADERS. The pino
// redaction paths are a second line of defence for objects that slip into a log line by mistake.

export const REDACTED = 'REDACTED';

/** Header names whose values are safe to log (everything else is dropped, not masked). */
export const LOGGABLE_HEADERS: ReadonlySet<string> = new Set([
  ':method',
  ':scheme',
  'content-type',
  'content-length',
  'user-agent',
  'x-request-id',
  'accept',
  'accept-language',
]);

/**
 * Parameter names whose values may be shown: protocol identifiers that say which issuer, client or
 * error a callback named (RFC 9207 `iss`, RFC 6749 §4.1.2.1 `error`), useful on a mix-up deny and never
 * secret. Everything else — code, state, tokens, SAML, RelayState, login_hint, unknown names — is masked.
 */
export const SHOWN_PARAMS: ReadonlySet<string> = new Set(['iss', 'client_id', 'error', 'response_mode']);

/** Bounds so one hostile request cannot make a huge log line. */
const MAX_PATH_CHARS = 256;
const MAX_NAME_CHARS = 64;
const MAX_PAIRS = 32;
/**
 * A value of an allow-listed name is shown only when it looks like an issuer, client id or error
 * code: no `;`, `=`, `&`, spaces or controls. Otherwise `iss=x;code=<secret>` — one pair to us, two
 * to a backend that also splits on `;` — would put the secret in a log (found by the fuzzer).
 */
const SHOWN_VALUE = /^[A-Za-z0-9._~:/%+-]{0,256}$/;
/** A name is shown only when it looks like one: a long or odd "name" may be a value sent bare. */
const NAME = /^[A-Za-z0-9_.~%[\]-]+$/;

function renderName(name: string): string {
  return name.length <= MAX_NAME_CHARS && NAME.test(name) ? name : REDACTED;
}

/**
 * The one masker: `name=value` pairs joined by `sep` (`&` for query, form and fragment, `;` for path
 * parameters). Names are kept (a duplicate_param deny is debugged by them), values become REDACTED
 * unless the name is on SHOWN_PARAMS; a piece without `=` is masked whole, and so is a name that does
 * not look like one. Nothing is decoded: what is shown is what was sent.
 */
export function maskPairs(text: string, sep: '&' | ';'): string {
  if (text.length === 0) return text;
  const parts = text.split(sep);
  const out: string[] = [];
  for (let i = 0; i < parts.length && i < MAX_PAIRS; i++) {
    const p = parts[i];
    if (p.length === 0) {
      out.push('');
      continue;
    }
    const eq = p.indexOf('=');
    if (eq < 0) {
      // A bare piece is a flag or a value sent without a name (`?<token>`): it cannot be told which.
      out.push(REDACTED);
      continue;
    }
    const name = p.slice(0, eq);
    const value = p.slice(eq + 1);
    const shown = SHOWN_PARAMS.has(name) && SHOWN_VALUE.test(value);
    out.push(`${renderName(name)}=${shown ? value : REDACTED}`);
  }
  if (parts.length > MAX_PAIRS) out.push('…');
  return out.join(sep);
}

/** A query string or a form body (`a=1&b=2`), masked. */
export function renderQuery(query: string): string {
  return maskPairs(query, '&');
}

/** `application/x-www-form-urlencoded` bodies are the same shape as a query (WHATWG URL §5). */
export const renderForm = renderQuery;

/** Path parameters (`;` or its escape `%3B`) after each segment's first piece, masked (T-P3 paths). */
function renderPathOnly(path: string): string {
  const cut = path.length > MAX_PATH_CHARS ? `${path.slice(0, MAX_PATH_CHARS)}…` : path;
  if (!/;|%3b/i.test(cut)) return cut;
  return cut
    .split('/')
    .map((segment) => {
      const pieces = segment.split(/;|%3[Bb]/);
      if (pieces.length === 1) return segment;
      const seps = segment.match(/;|%3[Bb]/g) ?? [];
      let out = pieces[0];
      for (let i = 1; i < pieces.length; i++) out += seps[i - 1] + maskPairs(pieces[i], ';');
      return out;
    })
    .join('/');
}

/**
 * Any request target for a log: origin-form `/p;x=1?q=2#f=3` or absolute-form `https://u:p@h/p?q`.
 * Path parameters, query and fragment are masked (maskPairs), userinfo is REDACTED, the path is cut
 * at 256 characters.
 */
export function renderTarget(target: string): string {
  let rest = target;
  let prefix = '';
  const abs = /^([A-Za-z][A-Za-z0-9+.-]*:\/\/)([^/?#]*)/.exec(rest);
  if (abs) {
    const at = abs[2].lastIndexOf('@');
    prefix = abs[1] + (at >= 0 ? `${REDACTED}@${abs[2].slice(at + 1)}` : abs[2]);
    rest = rest.slice(abs[0].length);
  }
  let fragment: string | null = null;
  const hash = rest.indexOf('#');
  if (hash >= 0) {
    fragment = rest.slice(hash + 1);
    rest = rest.slice(0, hash);
  }
  const q = rest.indexOf('?');
  const path = q >= 0 ? rest.slice(0, q) : rest;
  let out = prefix + renderPathOnly(path);
  if (q >= 0) out += `?${renderQuery(rest.slice(q + 1))}`;
  if (fragment !== null) out += `#${renderQuery(fragment)}`;
  return out;
}

/** Is this header's value loggable as is? */
export function headerShown(name: string): boolean {
  return LOGGABLE_HEADERS.has(name);
}

/**
 * A header set for a log: allow-listed headers as received, `:path` rendered as a target, the
 * authority kept when asked (the decision log keeps it, T-H1 needs it), everything else dropped.
 */
export function renderHeaders(headers: Record<string, unknown>, opts: { authority?: boolean } = {}): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of Object.keys(headers)) {
    const v = headers[k];
    if (typeof v !== 'string') continue;
    if (LOGGABLE_HEADERS.has(k)) out[k] = v;
    else if (k === ':path') out[k] = renderTarget(v);
    else if (opts.authority && (k === ':authority' || k === 'host')) out[k] = v;
  }
  return out;
}

/** Parsed parameters (`parsed_query` shape: name → values): values masked unless the name is shown. */
export function renderParams(params: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  for (const k of Object.keys(params)) {
    const v = params[k];
    const show = SHOWN_PARAMS.has(k);
    const one = (x: unknown): unknown => (show && typeof x === 'string' && SHOWN_VALUE.test(x) ? x : REDACTED);
    out[renderName(k)] = Array.isArray(v) ? v.map(one) : one(v);
  }
  return out;
}

/** Request-value containers a log object could carry by mistake, and the secret names inside them. */
const SECRET_HEADERS = ['authorization', 'proxy-authorization', 'cookie', 'set-cookie', 'webhook-signature', 'x-hub-signature', 'x-hub-signature-256', 'stripe-signature'];
const SECRET_PARAMS = ['code', 'state', 'id_token', 'logout_token', 'access_token', 'refresh_token', 'SAMLResponse', 'RelayState', 'client_secret', 'token'];

function path(base: string, name: string): string {
  return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(name) ? `${base}.${name}` : `${base}["${name}"]`;
}

/**
 * Top-level names masked too: unmistakably a secret wherever they appear. Not `code` or `token`: those
 * are ordinary words for our own fields, and a bare `code` path once erased the error code of every
 * `*_failed` line (our lines now say `error_code`, and parameters live under a container).
 */
const TOP_LEVEL = ['authorization', 'cookie', 'state', 'id_token', 'logout_token', 'access_token', 'refresh_token', 'SAMLResponse', 'RelayState', 'client_secret'];

/**
 * Paths pino masks if a header or parameter object ever slips into a log line: each secret name under
 * the container it would arrive in (`headers.cookie`, `query.code`), plus TOP_LEVEL. Fixed paths only:
 * a wildcard path made each log call ~10x slower (35 µs vs 4 µs measured on a decision line).
 */
export const PINO_REDACT_PATHS: string[] = [
  ...['headers', 'req.headers', 'request.headers'].flatMap((base) => SECRET_HEADERS.map((h) => path(base, h))),
  ...['query', 'form', 'params', 'body', 'req.query', 'req.body'].flatMap((base) => SECRET_PARAMS.map((n) => path(base, n))),
  ...TOP_LEVEL,
];

/**
 * An exception as loggable fields: its class name, its `code` when it is one of ours, and the stack
 * frames without the first line. The message is left out on purpose: a parser's message can quote the
 * input it choked on (Node's JSON.parse does), and the input may hold a secret.
 */
export function describeError(e: unknown): { error_name: string; error_code?: string; error_stack?: string } {
  if (!(e instanceof Error)) return { error_name: typeof e };
  const out: { error_name: string; error_code?: string; error_stack?: string } = { error_name: e.name };
  const code = (e as { code?: unknown }).code;
  if (typeof code === 'string' && /^[a-z][a-z0-9_]{0,63}$/.test(code)) out.error_code = code;
  if (typeof e.stack === 'string') {
    const frames = e.stack.split('\n').filter((l) => /^\s+at /.test(l));
    if (frames.length > 0) out.error_stack = frames.slice(0, 12).map((l) => l.trim()).join('\n');
  }
  return out;
}
