// What `serve` makes of its flags and variables, without starting anything: the real command parses
// `args` under `env` (every CALLBACK_PROXY_* variable of the test process cleared first, restored after)
// and hands back the options it would give the App. Throws what the command throws (CliError).
import { Command } from 'commander';
import { registerServeCommand, SERVE_FLAGS } from '../../ext-authz/src/cli/serve-command';
import type { ServeOptions } from '../../ext-authz/src/cli/serve-command';

export async function parseServe(args: string[], env: Record<string, string> = {}): Promise<ServeOptions> {
  const saved: Record<string, string | undefined> = {};
  for (const s of SERVE_FLAGS) {
    saved[s.env] = process.env[s.env];
    delete process.env[s.env];
  }
  for (const k of Object.keys(env)) if (!(k in saved)) saved[k] = process.env[k];
  Object.assign(process.env, env);
  try {
    let got: ServeOptions | null = null;
    const program = new Command().exitOverride();
    registerServeCommand(program, async (o) => {
      got = o;
    });
    program.commands[0].exitOverride();
    await program.parseAsync(['serve', ...args], { from: 'user' });
    return got!;
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}
