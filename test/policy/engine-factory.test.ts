// The engine `serve` runs: a policy directory watched through the shared file watcher; a good edit is
// logged as policy_reloaded, a broken one as policy_reload_failed with its error code and the revision
// kept, and the last good policy keeps deciding.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { createPolicyEngine } from '../../ext-authz/src/policy/engine-factory';
import { createLogger } from '../../ext-authz/src/telemetry/logger';
import { waitFor as waitUntil } from '../support/wait';

const waitFor = (pred: () => boolean, ms = 8000): Promise<void> => waitUntil(pred, ms);

test('reloads are logged with their outcome; a broken edit keeps the last good policy', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cbp-ef-'));
  const file = path.join(dir, 'p.rego');
  fs.writeFileSync(file, 'package t\n\nanswer := 1\n');
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(c, _e, cb) {
      for (const l of String(c).split('\n').filter(Boolean)) lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  const engine = await createPolicyEngine({ policyDir: dir, decisionPath: 't/answer', watch: true, logger: createLogger({ stream }) });
  try {
    expect(engine.evaluate({})).toEqual({ ok: true, value: 1 });
    const first = engine.revision;
    fs.writeFileSync(file, 'package t\n\nanswer := 2\n');
    await waitFor(() => lines.some((l) => l.event === 'policy_reloaded'));
    expect(engine.evaluate({})).toEqual({ ok: true, value: 2 });
    const second = engine.revision;
    expect(second).not.toBe(first);

    fs.writeFileSync(file, 'package t\n\nanswer := \n');
    await waitFor(() => lines.some((l) => l.event === 'policy_reload_failed'));
    expect(lines.find((l) => l.event === 'policy_reload_failed')).toMatchObject({ error_code: 'policy_parse_error', kept_revision: second });
    expect(engine.evaluate({})).toEqual({ ok: true, value: 2 });
  } finally {
    await engine.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
