// Redis connectivity as ioredis reports it (docs/operations.md, "Health and readiness"): `ready` → up;
// an error, a closed connection or a reconnect attempt → down. This is what the readiness `store`
// condition and callback_proxy_redis_up read until an active health probe replaces it. Connection-level
// only: a command that times out on a live connection is seen by the store metrics, not here.
import type Redis from 'ioredis';

export interface RedisConnectionState {
  up: boolean;
  /** A fixed phrase; the Redis error text (which may name hosts) is never used. */
  detail: string;
}

/**
 * Reports the client's state now and on every change. Returns a function that stops reporting and a
 * promise that settles on the first definite state (ready, or a failure), for start-up to wait on.
 */
export function watchRedisConnection(client: Redis, report: (s: RedisConnectionState) => void): { stop: () => void; settled: Promise<RedisConnectionState> } {
  let settle: (s: RedisConnectionState) => void = () => undefined;
  const settled = new Promise<RedisConnectionState>((r) => (settle = r));
  const emit = (s: RedisConnectionState, definite: boolean): void => {
    report(s);
    if (definite) settle(s);
  };
  const onReady = (): void => emit({ up: true, detail: '' }, true);
  const onError = (): void => emit({ up: false, detail: 'redis unreachable' }, true);
  const onClose = (): void => emit({ up: false, detail: 'redis connection closed' }, true);
  const onReconnecting = (): void => emit({ up: false, detail: 'redis reconnecting' }, false);
  client.on('ready', onReady);
  client.on('error', onError);
  client.on('close', onClose);
  client.on('reconnecting', onReconnecting);
  if (client.status === 'ready') onReady();
  else emit({ up: false, detail: 'redis connecting' }, false);
  return {
    settled,
    stop: () => {
      client.off('ready', onReady);
      client.off('error', onError);
      client.off('close', onClose);
      client.off('reconnecting', onReconnecting);
    },
  };
}
