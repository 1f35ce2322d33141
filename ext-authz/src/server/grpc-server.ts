// gRPC listener: envoy.service.auth.v3.Authorization/Check, callbackproxy.v1.Pins and grpc.health.v1 on
// one grpc-js Server. Check never fails the RPC: every failure is a deny CheckResponse (fail closed).
import { randomUUID } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { loadProtos } from '../check/protos';
import { adaptCheckRequest } from '../check/adapter';
import { localDeny } from '../check/local-deny';
import { toCheckResponse } from '../check/check-response';
import { checkResponseSerializer } from '../check/check-response-encode';
import { checkRequestDecoder } from '../check/check-request-decode';
import type { CheckResponseObject, DecodedCheckRequest } from '../check/check-request-types';
import type { CheckCore } from '../check/check-core';
import type { OpaEnvoyCore } from '../check/opa-envoy/core';
import { toOpaEnvoyCheckResponse } from '../check/opa-envoy/response';
import type { Readiness } from './health';
import { PIN_API_STATUS, PinApiError, readPinInput } from './pin-api';
import type { PinApi } from './pin-api';
import type { ServiceMetrics } from '../telemetry/service-metrics';
import type { TraceInput } from '../telemetry/tracing';

/** What both listeners (gRPC here, HTTP in http-server.ts) are built from. */
export interface ListenerOptions {
  core: CheckCore;
  readiness: Readiness;
  pinApi: PinApi;
  metrics: ServiceMetrics;
  /** The routing header of the current registry. */
  routingHeader: () => string;
  /** `--mode opa-envoy`: checks go to this core instead (no facts, the plugin's input and answers). */
  opaEnvoy?: OpaEnvoyCore | null;
}

export type GrpcServerOptions = ListenerOptions;

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

/** Checks still being decided, per server: what stopGrpc answers at its deadline. */
const checksInFlight = new WeakMap<grpc.Server, Set<() => void>>();

export function createGrpcServer(opts: GrpcServerOptions): grpc.Server {
  const protos = loadProtos();
  const inFlight = new Set<() => void>();
  // Envoy keeps one long-lived HTTP/2 connection per worker. Channelz bookkeeping is per call and
  // nobody reads it here, so it is off.
  const server = new grpc.Server({
    'grpc.max_receive_message_length': 4 * 1024 * 1024,
    'grpc.keepalive_permit_without_calls': 1,
    'grpc.enable_channelz': 0,
  });

  /** `--mode opa-envoy`: the plugin's contract end to end; never fails the RPC either. */
  const opaCheck = (core: OpaEnvoyCore, call: grpc.ServerUnaryCall<DecodedCheckRequest, CheckResponseObject>, callback: grpc.sendUnaryData<CheckResponseObject>): void => {
    const t0 = process.hrtime.bigint();
    let answered = false;
    const answer = (response: unknown): void => {
      if (answered) return;
      answered = true;
      inFlight.delete(cut);
      callback(null, response as CheckResponseObject);
    };
    const cut = (): void => answer(toOpaEnvoyCheckResponse({ decisionId: randomUUID(), ok: false, reason: 'authz_unavailable' }));
    inFlight.add(cut);
    void core.run(() => call.request ?? null, 'grpc', t0, core.traced ? traceInput(call) : undefined).then((check) => {
      let response: unknown;
      try {
        response = toOpaEnvoyCheckResponse(check);
      } catch (e) {
        core.reportFailure(e, check.decisionId, 'grpc');
        response = toOpaEnvoyCheckResponse({ decisionId: check.decisionId, ok: false, reason: 'internal_error' });
      }
      answer(response);
    });
  };

  // The Check method with our direct reader and writer (check/check-request-decode.ts,
  // check/check-response-encode.ts): the same objects and bytes as the proto-loader (de)serializer,
  // which stays the reader and writer for anything unusual (the opa-envoy mode's query parameters, for
  // one), without protobufjs messages on every check.
  const checkDef = protos.authorizationService.Check as grpc.MethodDefinition<DecodedCheckRequest, CheckResponseObject>;
  const authorization: grpc.ServiceDefinition = {
    ...protos.authorizationService,
    Check: { ...checkDef, requestDeserialize: checkRequestDecoder(checkDef.requestDeserialize), responseSerialize: checkResponseSerializer(checkDef.responseSerialize) },
  };
  server.addService(authorization, {
    Check: (call: grpc.ServerUnaryCall<DecodedCheckRequest, CheckResponseObject>, callback: grpc.sendUnaryData<CheckResponseObject>) => {
      if (opts.opaEnvoy) return opaCheck(opts.opaEnvoy, call, callback);
      const t0 = process.hrtime.bigint();
      const routing = opts.routingHeader();
      let answered = false;
      const answer = (response: CheckResponseObject): void => {
        if (answered) return;
        answered = true;
        inFlight.delete(cut);
        callback(null, response);
      };
      // At a stop's deadline a check still waiting is answered with a deny (stopGrpc).
      const cut = (): void => answer(toCheckResponse(localDeny('authz_unavailable'), { routingHeader: routing }));
      inFlight.add(cut);
      // The core never rejects; it runs the adapter inside its fail-closed boundary.
      void opts.core.run(() => adaptCheckRequest(call.request), 'grpc', t0, opts.core.traced ? traceInput(call) : undefined).then((result) => {
        let response: CheckResponseObject;
        try {
          response = toCheckResponse(result, { routingHeader: routing });
        } catch (e) {
          opts.core.reportFailure(e, result.decisionId, 'grpc');
          response = toCheckResponse(localDeny('internal_error', result.decisionId), { routingHeader: routing });
        }
        answer(response);
      });
    },
  });

  /** One Pin API method over gRPC: the call's bearer token and input in, the answer or its code out, counted. */
  const pinMethod =
    (method: 'CreatePin' | 'MintState', run: (authorization: string | undefined, input: ReturnType<typeof readPinInput>) => Promise<unknown>) =>
    (call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>): void => {
      run(authorizationMeta(call), readPinInput(call.request)).then(
        (out) => {
          opts.metrics.pinApiCall(method, 'ok');
          callback(null, out);
        },
        (e: unknown) => {
          opts.metrics.pinApiCall(method, e instanceof PinApiError ? e.code : 'unavailable');
          callback(pinError(e));
        },
      );
    };
  server.addService(protos.pinsService, {
    CreatePin: pinMethod('CreatePin', (auth, input) => opts.pinApi.createPin(auth, input)),
    MintState: pinMethod('MintState', (auth, input) => opts.pinApi.mintState(auth, input)),
  });

  opts.readiness.health.addToServer(server);
  checksInFlight.set(server, inFlight);
  return server;
}

export function bindGrpc(server: grpc.Server, addr: string, credentials: grpc.ServerCredentials): Promise<number> {
  const { host, port } = splitAddr(addr);
  return new Promise((resolve, reject) => {
    server.bindAsync(`${host}:${port}`, credentials, (err, bound) => (err ? reject(err) : resolve(bound)));
  });
}

/**
 * Graceful stop: tryShutdown lets in-flight calls finish (GOAWAY). At the deadline every check still
 * waiting is answered with an authz_unavailable deny (fail closed), then forceShutdown. The answers are
 * needed: with channelz off (createGrpcServer), grpc-js 1.14's forceShutdown does not destroy the
 * sessions it never tracked, so a call left waiting would outlive the stop and could still be answered.
 */
export function stopGrpc(server: grpc.Server, deadlineMs: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      for (const cut of [...(checksInFlight.get(server) ?? [])]) cut();
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
