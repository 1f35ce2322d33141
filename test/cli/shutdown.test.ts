// installShutdown: a signal drains the app (NOT_SERVING, listeners closed) and exits 0; a second
// signal exits at once with 130.
import { PassThrough } from 'node:stream';
import { App } from '../../ext-authz/src/app';
import { installShutdown } from '../../ext-authz/src/cli/shutdown';
import { createLogger } from '../../ext-authz/src/telemetry/logger';
import { httpRequest } from '../support/app-harness';

jest.setTimeout(60_000);

test('SIGTERM → drain → exit(0); a second signal → exit(130)', async () => {
  const app = new App({ grpcAddr: '127.0.0.1:0', httpAddr: '127.0.0.1:0', graceMs: 200, logger: createLogger({ stream: new PassThrough() }), watch: false });
  const { httpPort } = await app.start();
  const codes: number[] = [];
  let resolveExit: () => void = () => undefined;
  const exited = new Promise<void>((r) => (resolveExit = r));
  const uninstall = installShutdown(app, {
    exit: (c) => {
      codes.push(c);
      if (c === 0) resolveExit();
    },
  });
  try {
    process.emit('SIGTERM');
    expect(app.readiness.ready).toBe(false);
    expect(app.readiness.isDraining).toBe(true);
    process.emit('SIGINT');
    expect(codes).toEqual([130]);
    await exited;
    expect(codes).toEqual([130, 0]);
    await expect(httpRequest(httpPort, 'GET', '/healthz', {})).rejects.toBeTruthy();
  } finally {
    uninstall();
    await app.stop();
  }
});
