// `npm run demo`: a narrated local walkthrough of a migration (no Docker). Starts ext-authz, the legacy
// and new mock identity backends and nginx (or, without nginx, an Envoy stand-in that calls ext-authz's
// forward-auth endpoint directly), performs a real login per stage and says who served it and why.
import type { Stage } from '../ext-authz/src/model/registry';
import { EXTERNAL_BASE, EXTERNAL_HOST, startStack } from './harness';
import type { Stack, StageOptions } from './harness';
import type { BrowserResult, PendingRequest } from './idp/browser';
import { findNginx } from './nginx';

const tty = process.stdout.isTTY === true;
const paint = (code: string) => (s: string): string => (tty ? `\x1b[${code}m${s}\x1b[0m` : s);
const bold = paint('1');
const dim = paint('2');
const green = paint('32');
const red = paint('31');
const cyan = paint('36');
const say = (s = ''): void => void process.stdout.write(`${s}\n`);

/** Reason codes decided since `before`, from ext-authz's decision counter (one series per label set). */
async function newReasons(stack: Stack, before: Map<string, number>): Promise<string[]> {
  const out: string[] = [];
  for (const [series, v] of await counts(stack)) {
    if (v <= (before.get(series) ?? 0)) continue;
    const reason = /reason="([^"]+)"/.exec(series)?.[1];
    if (reason && !out.includes(reason)) out.push(reason);
  }
  return out;
}

/** The decision counter's series from the service's own Prometheus exposition (what /metrics serves). */
async function counts(stack: Stack): Promise<Map<string, number>> {
  const m = new Map<string, number>();
  for (const line of (await stack.app.telemetry.metricsText()).split('\n')) {
    if (!line.startsWith('callback_proxy_decisions_total{')) continue;
    const cut = line.lastIndexOf(' ');
    m.set(line.slice(0, cut), Number(line.slice(cut + 1)));
  }
  return m;
}

const isCallback = (p: PendingRequest): boolean => new URL(p.url).host === EXTERNAL_HOST && new URL(p.url).pathname === '/oauth2/callback';

function outcome(r: BrowserResult): string {
  const last = r.hops[r.hops.length - 1];
  if (r.json?.ok === true) return green(`logged in at ${bold(String(r.json.backend))}`);
  if (last?.servedBy === undefined) return red(`denied by the proxy (${last?.reason ?? 'no reason'})`);
  return red(`broken at ${last.servedBy}: ${String(r.json?.error)}`);
}

async function main(): Promise<void> {
  // `npm run demo -- --no-nginx` shows the fallback even where nginx is installed.
  const nginxBin = process.argv.includes('--no-nginx') ? null : findNginx();
  say(bold('callback-proxy walkthrough') + dim(' — one stable callback URL, two identity backends, a migration in five stages'));
  if (!nginxBin) say(red('nginx not used: using an Envoy stand-in that calls ext-authz\'s forward-auth endpoint (/envoy/authz) directly.'));
  const stack = await startStack({ stage: 'observe', nginx: nginxBin !== null, front: nginxBin ? false : 'http', logLevel: 'warn' });
  const via = nginxBin ? 'nginx' : 'front';
  say(dim(`  ext-authz  gRPC 127.0.0.1:${stack.grpcPort}  HTTP 127.0.0.1:${stack.httpPort}`));
  say(dim(`  legacy IdP ${stack.legacy.url}   new IdP ${stack.neu.url}`));
  say(dim(`  ${(via === 'nginx' ? 'nginx' : 'stand-in').padEnd(10)} ${stack.proxyUrl(via)}  (the browser calls it ${EXTERNAL_BASE})`));
  say();

  let step = 0;
  const stage = async (s: Stage, o: StageOptions, why: string): Promise<void> => {
    await stack.setStage(s, o);
    say(`${bold(`${++step}. ${s}${s === 'canary' ? ` ${o.percent} %` : ''}`)} ${dim(`— ${why}`)}`);
  };
  /** Starts a login and stops while the user is at the IdP; the returned function delivers the callback. */
  const hold = async (user: string, quiet = false) => {
    const b = stack.browser(via);
    const before = await counts(stack);
    const r = await b.get(`${EXTERNAL_BASE}/login?login_hint=${user}`, {}, isCallback);
    const startReasons = (await newReasons(stack, before)).join(', ') || '-';
    const owner = r.hops[0]?.servedBy ?? 'nobody';
    if (!quiet) say(`   ${cyan(user.padEnd(8))} ${dim(`started a login on ${owner} (${startReasons}) and is still at the IdP …`)}`);
    return async (note = ''): Promise<void> => {
      const mark = await counts(stack);
      const done = r.pending ? await b.resume(r.pending) : r;
      const cbReasons = (await newReasons(stack, mark)).join(', ') || '-';
      const why = quiet ? `start: ${startReasons} · callback: ${cbReasons}` : `callback: ${cbReasons}`;
      say(`   ${cyan(user.padEnd(8))} ${outcome(done)}  ${dim(why)}${note ? dim(`  ${note}`) : ''}`);
    };
  };
  const loginAs = async (user: string): Promise<void> => (await hold(user, true))();

  try {
    await stage('observe', {}, 'the proxy watches; everything stays on legacy');
    await loginAs('alice');
    const carol = await hold('carol');
    const ivan = await hold('ivan');
    const mallory = await hold('mallory');

    await stage('canary', { percent: 50 }, 'half the logins (a server-side draw, never a value the user sends) start on new, decided once and pinned');
    for (const u of ['bob', 'dave', 'erin', 'frank', 'gus', 'hana']) await loginAs(u);

    const drain = Date.now() + 1500;
    await stage('cutover', { drainUntil: drain }, 'new flows go to new; legacy flows may finish until drain_until (in 1.5 s)');
    await loginAs('heidi');
    await carol('(began in observe, finishes on legacy inside the drain window)');
    const judy = await hold('judy');
    await new Promise((r) => setTimeout(r, Math.max(0, drain - Date.now()) + 50));
    await ivan('(began in observe, came back after drain_until: must restart the login)');

    await stage('rollback', { drainUntil: Date.now() + 60_000 }, 'trouble on new: new flows back to legacy, new-pinned flows still finish on new');
    await loginAs('kim');
    await judy('(began on new in cutover: never handed to legacy, which could not redeem its code)');

    await stage('retired', {}, 'legacy is switched off: its last in-flight flows are told to restart');
    await mallory('(began on legacy in observe)');
    await loginAs('oscar');
    say();
    const broken = (stack.legacy.stats.callbacks_rejected.unknown_flow ?? 0) + (stack.neu.stats.callbacks_rejected.unknown_flow ?? 0);
    say(`${bold('callbacks that reached a backend which had not started their flow:')} ${broken === 0 ? green('0') : red(String(broken))}`);
    say(dim('Try `npm run bench:cutover` to see the same with 200 concurrent users, with and without pins.'));
  } finally {
    await stack.stop();
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`demo failed: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
});
