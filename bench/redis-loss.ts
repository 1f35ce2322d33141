// Time to detect a Redis loss (docs/operations.md, "Redis"): a real redis-server is killed with -9 and
// restarted empty on the same port; the stores report `down` when the connection drops, and the new
// epoch (`store_data_lost`, cause empty) once they reconnect and check. Meanwhile every operation is
// refused. Prints, per round, the time from kill to `down`, and from the moment the empty Redis answered
// PING to the loss being detected (the stores usable again under the new epoch).
// Run:  node -r ./scripts/ts-register.cjs bench/redis-loss.ts [rounds] [down_ms]
//   down_ms  how long Redis stays dead before the restart (default 0; the client's reconnect delay
//            grows with the outage, up to 2 s)
import { spawn, type ChildProcess } from 'node:child_process';
import { freePort } from '../demo/ports';
import { pong } from '../test/support/redis-server';
import { createRedisStores } from '../ext-authz/src/store/redis-store';
import type { EpochEvent, StoreState } from '../ext-authz/src/store/observer';

const ROUNDS = Number(process.argv[2] ?? 5);
const DOWN_MS = Number(process.argv[3] ?? 0);

function start(port: number): ChildProcess {
  return spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
}

async function answering(port: number): Promise<number> {
  for (let i = 0; i < 400; i++) {
    if (await pong(port)) return performance.now();
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error('redis-server did not start');
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const port = await freePort();
  let child = start(port);
  await answering(port);
  const marks: { state?: StoreState; epoch?: EpochEvent; at: number }[] = [];
  const stores = createRedisStores({
    url: `redis://127.0.0.1:${port}`,
    checkSettings: false,
    observer: { stateChanged: (state) => marks.push({ state, at: performance.now() }), epochStarted: (_s, epoch) => marks.push({ epoch, at: performance.now() }) },
  });
  if (!(await stores.link.waitUsable(10_000))) throw new Error('stores never usable');
  const rounds: { kill_to_down_ms: number; restart_to_detected_ms: number; kill_to_usable_ms: number; refused_while_lost: number }[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    await stores.replayStore.commit([{ namespace: 'state', hash: `round-${r}`, ttlMs: 600_000 }]);
    marks.length = 0;
    const exited = new Promise((res) => child.once('exit', res));
    const tKill = performance.now();
    child.kill('SIGKILL');
    await exited;
    if (DOWN_MS > 0) await sleep(DOWN_MS);
    child = start(port);
    const tUp = await answering(port);
    // Every operation until the loss is detected is refused, never served from the empty store.
    let refused = 0;
    while (!marks.some((m) => m.epoch === 'empty')) {
      try {
        await stores.replayStore.peek([{ namespace: 'state', hash: `round-${r}` }]);
        throw new Error(`a peek was served before the loss was detected: ${JSON.stringify(marks)} ${stores.link.status} ${stores.link.epochValue}`);
      } catch (e) {
        if (e instanceof Error && e.message.startsWith('a peek')) throw e;
        refused++;
      }
      await sleep(1);
    }
    const down = marks.find((m) => m.state === 'down');
    const lost = marks.find((m) => m.epoch === 'empty');
    await stores.link.waitUsable(10_000);
    rounds.push({
      kill_to_down_ms: +((down?.at ?? NaN) - tKill).toFixed(1),
      restart_to_detected_ms: +((lost?.at ?? NaN) - tUp).toFixed(1),
      kill_to_usable_ms: +(performance.now() - tKill).toFixed(1),
      refused_while_lost: refused,
    });
  }
  const worst = Math.max(...rounds.map((x) => x.restart_to_detected_ms));
  console.log(JSON.stringify({ rounds: ROUNDS, down_ms: DOWN_MS, check_interval_ms: 1000, worst_restart_to_detected_ms: worst, per_round: rounds }, null, 2));
  await stores.close();
  child.kill('SIGKILL');
}

void main();
