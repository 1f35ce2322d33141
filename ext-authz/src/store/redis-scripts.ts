// The Redis stores' server-side scripts (docs/operations.md, "Redis"). Each runs atomically on the
// server, across every replica sharing the Redis:
//   EPOCH  — reads the store's epoch (written when the store was found empty or rolled back) and the
//            commit sequence; starts a new epoch when there is none or the sequence went backwards.
//   PUT    — registers a pin unless one exists, within the pin budget, if the epoch is still ours.
//   COMMIT — sets a request's markers all or none, within each class's budget, if the epoch is still
//            ours and the sequence has not gone backwards; then advances the sequence.
//
// Budgets count entries per class in expiry buckets of BUCKET_MS (a hash of bucket → count plus `n`,
// and a sorted set of the buckets): an entry counts until the end of its bucket (at most BUCKET_MS past
// its own expiry, never less). Counting reads nothing per entry and never evicts anything.
//
// Memory pressure: the first write of PUT and COMMIT is the entry itself, and every budget check before
// it only reads. A Redis over its maxmemory (with `noeviction`) refuses that first write with an OOM
// error and the script stops having written nothing; the stores report that as a full budget.

/** Width of a budget bucket. */
export const BUCKET_MS = 60_000;

/** Shared Lua: live count of a class at bucket `nowb` (read only), and the stale buckets to drop. */
const LIVE = `
local function live(h, z, nowb)
  local stale = redis.call('ZRANGEBYSCORE', z, '-inf', nowb)
  local total = tonumber(redis.call('HGET', h, 'n') or '0')
  local counts = {}
  for i = 1, #stale do
    counts[i] = tonumber(redis.call('HGET', h, stale[i]) or '0')
    total = total - counts[i]
  end
  if total < 0 then total = 0 end
  return total, stale
end
local function settle(h, z, nowb, total, stale, b, k)
  if #stale > 0 then
    redis.call('ZREMRANGEBYSCORE', z, '-inf', nowb)
    for i = 1, #stale do redis.call('HDEL', h, stale[i]) end
  end
  local f = tostring(b)
  redis.call('HINCRBY', h, f, k)
  redis.call('HSET', h, 'n', total + k)
  redis.call('ZADD', z, b, f)
end
local function bucket(now, ttl)
  return math.ceil((now + ttl) / ${BUCKET_MS})
end
`;

/**
 * KEYS[1] epoch, KEYS[2] seq. ARGV[1] the epoch this replica knows ('' if none), ARGV[2] the highest
 * sequence it has seen, ARGV[3] a fresh random id for a new epoch. A new epoch's value is
 * `<id>.<epoch ms>`, the time taken from the Redis server as it writes it: never earlier than the loss.
 * Returns {epoch, seq, how}: how = 'same' | 'other' | 'created' (no epoch key: empty store) |
 * 'rollback' (our epoch, but the sequence is below what we saw: the store went back in time).
 */
export const EPOCH_SCRIPT = `
local function fresh()
  local t = redis.call('TIME')
  local v = ARGV[3] .. '.' .. t[1] .. string.format('%03d', math.floor(tonumber(t[2]) / 1000))
  redis.call('SET', KEYS[1], v)
  return v
end
local cur = redis.call('GET', KEYS[1])
local seq = tonumber(redis.call('GET', KEYS[2]) or '0')
if not cur then
  return {fresh(), seq, 'created'}
end
if cur == ARGV[1] then
  if seq < tonumber(ARGV[2]) then
    return {fresh(), seq, 'rollback'}
  end
  return {cur, seq, 'same'}
end
return {cur, seq, 'other'}
`;

/**
 * KEYS[1] epoch, KEYS[2] pin key, KEYS[3] pin budget hash, KEYS[4] pin budget buckets.
 * ARGV[1] epoch value, ARGV[2] pin json, ARGV[3] ttl ms, ARGV[4] now ms, ARGV[5] budget.
 * Returns {0} created, {1, pin json} a pin exists (unchanged), {-1} epoch changed, {2} budget full.
 * The hash layout (field `pin`) is the one earlier releases wrote.
 */
export const PUT_SCRIPT = `${LIVE}
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return {-1} end
local prev = redis.call('HGET', KEYS[2], 'pin')
if prev then return {1, prev} end
local now = tonumber(ARGV[4])
local ttl = tonumber(ARGV[3])
local nowb = math.floor(now / ${BUCKET_MS})
local total, stale = live(KEYS[3], KEYS[4], nowb)
if total + 1 > tonumber(ARGV[5]) then return {2} end
redis.call('HSET', KEYS[2], 'pin', ARGV[2])
redis.call('PEXPIRE', KEYS[2], ttl)
settle(KEYS[3], KEYS[4], nowb, total, stale, bucket(now, ttl), 1)
return {0}
`;

/**
 * KEYS: [1] epoch, [2] seq, [3 .. 2+n] the n marker keys, then for each of the c classes in the
 * commit its budget hash and bucket set. ARGV: [1] epoch value, [2] highest sequence seen, [3] now ms,
 * [4] n, [5] c, then n ttls (ms), then n class numbers (1..c, per marker), then c budgets.
 * Returns {0, seq} all set, {1, i} marker i (1-based) already set, {-1, 0} epoch changed or sequence
 * went backwards, {2, k} class k (1-based) full. Nothing is written unless it returns {0, seq}.
 */
export const COMMIT_SCRIPT = `${LIVE}
local n = tonumber(ARGV[4])
local c = tonumber(ARGV[5])
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return {-1, 0} end
if tonumber(redis.call('GET', KEYS[2]) or '0') < tonumber(ARGV[2]) then return {-1, 0} end
for i = 1, n do
  if redis.call('EXISTS', KEYS[2 + i]) == 1 then return {1, i} end
end
local now = tonumber(ARGV[3])
local nowb = math.floor(now / ${BUCKET_MS})
local adding = {}
for i = 1, n do
  local k = tonumber(ARGV[5 + n + i])
  adding[k] = (adding[k] or 0) + 1
end
local totals = {}
local stales = {}
for k = 1, c do
  totals[k], stales[k] = live(KEYS[2 + n + 2 * k - 1], KEYS[2 + n + 2 * k], nowb)
  if totals[k] + (adding[k] or 0) > tonumber(ARGV[5 + 2 * n + k]) then return {2, k} end
end
for i = 1, n do
  redis.call('SET', KEYS[2 + i], '1', 'PX', ARGV[5 + i])
end
for i = 1, n do
  local k = tonumber(ARGV[5 + n + i])
  settle(KEYS[2 + n + 2 * k - 1], KEYS[2 + n + 2 * k], nowb, totals[k], stales[k], bucket(now, tonumber(ARGV[5 + i])), 1)
  totals[k] = totals[k] + 1
  stales[k] = {}
end
return {0, redis.call('INCR', KEYS[2])}
`;
