// A lean gRPC unary client for the benchmark: requests are serialised and framed before the clock
// starts, and sent over one node:http2 session (like one Envoy worker's connection), so the driver
// spends far less CPU per call than a grpc-js client and the server core, not the driver, saturates.
import * as http2 from 'node:http2';

export const CHECK_PATH = '/envoy.service.auth.v3.Authorization/Check';

/** gRPC length-prefixed message: 1 byte compressed flag (0), 4 bytes big-endian length, message. */
export function frame(message: Buffer): Buffer {
  const out = Buffer.allocUnsafe(5 + message.length);
  out[0] = 0;
  out.writeUInt32BE(message.length, 1);
  message.copy(out, 5);
  return out;
}

export interface UnaryResult {
  /** grpc-status trailer (or header for trailers-only responses); -1 on transport failure. */
  grpcStatus: number;
  /** The response message without its 5-byte prefix. */
  message: Buffer;
}

export class H2Client {
  private readonly session: http2.ClientHttp2Session;

  constructor(port: number) {
    this.session = http2.connect(`http://127.0.0.1:${port}`);
    this.session.on('error', () => undefined);
  }

  ready(): Promise<void> {
    return new Promise((resolve, reject) => {
      // `connecting` is false once the session is up (node:http2 ClientHttp2Session).
      if (!this.session.connecting) resolve();
      else {
        this.session.once('connect', () => resolve());
        this.session.once('error', reject);
      }
    });
  }

  call(path: string, framed: Buffer): Promise<UnaryResult> {
    return new Promise((resolve) => {
      const req = this.session.request({ ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers' });
      const chunks: Buffer[] = [];
      let status = -1;
      req.on('response', (h) => {
        if (h['grpc-status'] !== undefined) status = Number(h['grpc-status']);
      });
      req.on('trailers', (t) => {
        if (t['grpc-status'] !== undefined) status = Number(t['grpc-status']);
      });
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const all = Buffer.concat(chunks);
        resolve({ grpcStatus: status, message: all.length >= 5 ? all.subarray(5) : Buffer.alloc(0) });
      });
      req.on('error', () => resolve({ grpcStatus: -1, message: Buffer.alloc(0) }));
      req.end(framed);
    });
  }

  close(): void {
    this.session.close();
  }
}
