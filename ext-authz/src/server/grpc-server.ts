// gRPC listener: envoy.service.auth.v3.Authorization/Check, callbackproxy.v1.Pins and grpc.health.v1 on
// one grpc-js Server. Check never fails the RPC: every failure is a deny CheckResponse (fail closed).
import * as grpc from '@grpc/grpc-js';
import { loadProtos } from '../check/protos';
import { adaptCheckRequest } from '../check/adapter';
import type { AdaptedRequest } from '../check/adapter';
import { localDeny } from '../check/local-deny';
import { toCheckResponse } from '../check/check-response';
import type { CheckResponseObject, DecodedCheckRequest } from '../check/check-request-types';
import type { CheckCore } from '../check/check-core';
import type { Readiness } from './health';
import { PIN_API_STATUS, PinApiError, readPinInput } from './pin-api';
import type { PinApi } from './pin-api';
import type { ServiceMetrics } from '../telemetry/service-metrics';
import type { TraceInput } from '../telemetry/tracing';

export interface GrpcServerOptions {
  core: CheckCore;
  readiness: Readiness;
  pinApi: PinApi;
  metrics: ServiceMetrics;
  routingHeader: () => string;
}

export interface BoundGrpcServer {
  server: grpc.Server;
  port: number;
}

/** "host:port" → parts; IPv6 literals in brackets. Port 0 asks the OS for a free port. */
export function splitAddr(addr: string): { host: string; port: number } {
  const m = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(addr);
  if (!m) throw new Error(`address must be host:port, got ${JSON.stringify(addr)}`);
  return { host: m[1], port: Number(m[2]) };
}

function pinError(e: unknown): Partial<grpc.StatusObject> {
  const err = e instanceof PinApiError ? e : new PinApiError('unavailable', 'the pin could not be recorded');
  return { code: PIN_API_STATUS[err.code].grpc, details: err.message };
}

/**
 * Where the check's trace context comes from: the gRPC metadata of the call (Envoy's ext_authz client
 * span, when Envoy traces), else the original request's headers inside the CheckRequest.
 */
function traceInput(call: grpc.ServerUnaryCall<DecodedCheckRequest, CheckResponseObject>): TraceInput {
  const tp = call.metadata.get('traceparent');
  if (tp.length > 0) {
    const ts = call.metadata.get('tracestate');
    return { headers: { traceparent: tp.map(String), tracestate: ts.map(String) } };
  }
  const http = call.request?.attributes?.request?.http;
  if (http?.headers && typeof http.headers === 'object') return { headers: http.headers };
  // Envoy's header_map form (raw values): only the two trace headers are read.
  const bag: Record<string, string> = {};
  for (const h of http?.headerMap?.headers ?? []) {
    const k = h.key?.toLowerCase();
    if (k !== 'traceparent' && k !== 'tracestate') continue;
    const v = h.value ?? (h.rawValue ? Buffer.from(h.rawValue).toString('latin1') : undefined);
    if (v !== undefined) bag[k] = bag[k] === undefined ? v : `${bag[k]},${v}`;
  }
  return { headers: bag };
}

function authorizationMeta(call: grpc.ServerUnaryCall<unknown, unknown>): string | undefined {
  const v = call.metadata.get('authorization');
  return v.length === 1 && typeof v[0] === 'string' ? v[0] : undefined;
}

export function createGrpcServer(opts: GrpcServerOptions): grpc.Server {
  const protos = loadProtos();
  // Envoy keeps one long-lived HTTP/2 connection per worker. Channelz bookkeeping is per call and
  // nobody reads it here, so it is off.
  const server = new grpc.Server({
    'grpc.max_receive_message_length': 4 * 1024 * 1024,
    'grpc.keepalive_permit_without_calls': 1,
    'grpc.enable_channelz': 0,
  });

  server.addService(protos.authorizationService, {
    Check: (call: grpc.ServerUnaryCall<DecodedCheckRequest, CheckResponseObject>, callback: grpc.sendUnaryData<CheckResponseObject>) => {
      const t0 = process.hrtime.bigint();
      const routing = opts.routingHeader();
      let adapted: AdaptedRequest;
      try {
        adapted = adaptCheckRequest(call.request);
      } catch {
        adapted = { ok: false, reason: 'malformed_request' }; // a decoded message of an unexpected shape
      }
      opts.core.run(adapted, 'grpc', t0, opts.core.traced ? traceInput(call) : undefined).then(
        (result) => callback(null, toCheckResponse(result, { routingHeader: routing })),
        () => callback(null, toCheckResponse(localDeny('internal_error'), { routingHeader: routing })),
      );
    },
  });

  server.addService(protos.pinsService, {
    CreatePin: (call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => {
      opts.pinApi.createPin(authorizationMeta(call), readPinInput(call.request)).then(
        (out) => {
          opts.metrics.pinApiCall('CreatePin', 'ok');
          callback(null, out);
        },
        (e: unknown) => {
          opts.metrics.pinApiCall('CreatePin', e instanceof PinApiError ? e.code : 'unavailable');
          callback(pinError(e));
        },
      );
    },
    MintState: (call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => {
      const input = readPinInput(call.request);
      opts.pinApi.mintState(authorizationMeta(call), input).then(
        (out) => {
          opts.metrics.pinApiCall('MintState', 'ok');
          callback(null, out);
        },
        (e: unknown) => {
          opts.metrics.pinApiCall('MintState', e instanceof PinApiError ? e.code : 'unavailable');
          callback(pinError(e));
        },
      );
    },
  });

  opts.readiness.health.addToServer(server);
  return server;
}

export function bindGrpc(server: grpc.Server, addr: string, credentials: grpc.ServerCredentials): Promise<number> {
  const { host, port } = splitAddr(addr);
  return new Promise((resolve, reject) => {
    server.bindAsync(`${host}:${port}`, credentials, (err, bound) => (err ? reject(err) : resolve(bound)));
  });
}

/** Graceful stop: tryShutdown lets in-flight calls finish (GOAWAY); forceShutdown after the deadline. */
export function stopGrpc(server: grpc.Server, deadlineMs: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      server.forceShutdown();
      resolve();
    }, deadlineMs);
    timer.unref();
    server.tryShutdown(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}
