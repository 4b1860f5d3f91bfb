/**
 * The Lua scripts of the Redis store (docs/store-format.md, "Redis store"). Each runs atomically
 * in Redis, so that a lease that expired and was taken over is never released, renewed or marked
 * failed by its old owner. Every script is idempotent for its caller: the store retries a command
 * whose reply was lost to a dropped connection, and the retry must find the same outcome.
 *
 * Key layout (P = the store's prefix): `P:results` hash (task hash → framed result), `P:lock:<h>`
 * (lock: owner text, with a lease; failure mark: `FAILED\n` + owner text + record line, no
 * expiry), `P:locks` set (index of lock hashes), `P:owner:<owner id>` set (the locks one process
 * holds, which its heartbeat renews), `P:corrupt` hash (results set aside), `P:runs` list (run
 * records, JSON).
 */

/** Prefix of a failure mark's value. */
export const FAILED_MARK = 'FAILED\n';

/**
 * Take a lock. KEYS: lock, locks index, owner set, results. ARGV: owner text, lease ms (0: none),
 * hash. Returns 1 when the caller holds it (now or already), 2 when it does and the task's result
 * is stored (the caller's re-check then costs no round trip), else the holder's value.
 */
export const GET_LOCK = `
local v = redis.call('GET', KEYS[1])
if v == ARGV[1] then return 1 + redis.call('HEXISTS', KEYS[4], ARGV[3]) end
if v then return v end
if ARGV[2] == '0' then redis.call('SET', KEYS[1], ARGV[1]) else redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) end
redis.call('SADD', KEYS[2], ARGV[3])
redis.call('SADD', KEYS[3], ARGV[3])
if ARGV[2] ~= '0' then redis.call('PEXPIRE', KEYS[3], ARGV[2] * 2) end
return 1 + redis.call('HEXISTS', KEYS[4], ARGV[3])
`;

/**
 * Take over a lock whose holder is gone (a dead process of this host), only if it still holds the
 * value seen. KEYS: lock, locks index, owner set, results. ARGV: old value, owner text, lease ms,
 * hash. Returns 0 if not taken, else as GET_LOCK.
 */
export const TAKE_OVER = `
local v = redis.call('GET', KEYS[1])
if v == ARGV[2] then return 1 + redis.call('HEXISTS', KEYS[4], ARGV[4]) end
if v ~= ARGV[1] then return 0 end
if ARGV[3] == '0' then redis.call('SET', KEYS[1], ARGV[2]) else redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3]) end
redis.call('SADD', KEYS[2], ARGV[4])
redis.call('SADD', KEYS[3], ARGV[4])
if ARGV[3] ~= '0' then redis.call('PEXPIRE', KEYS[3], ARGV[3] * 2) end
return 1 + redis.call('HEXISTS', KEYS[4], ARGV[4])
`;

/**
 * GET_LOCK for several hashes in one call (the locks of tasks announced with `lockAhead()`): one
 * script run instead of one each, which is most of its cost on the server. KEYS: locks index,
 * owner set, results. ARGV: owner text, lease ms (0: none), lock key prefix, hash… Returns one
 * reply per hash, in order, each as GET_LOCK's.
 */
export const GET_LOCKS = `
local owner, lease, pre = ARGV[1], ARGV[2], ARGV[3]
local out, took = {}, false
for i = 4, #ARGV do
  local h = ARGV[i]
  local k = pre .. h
  local v = redis.call('GET', k)
  if v and v ~= owner then
    out[#out + 1] = v
  else
    if not v then
      if lease == '0' then redis.call('SET', k, owner) else redis.call('SET', k, owner, 'PX', lease) end
      redis.call('SADD', KEYS[1], h)
      redis.call('SADD', KEYS[2], h)
      took = true
    end
    out[#out + 1] = 1 + redis.call('HEXISTS', KEYS[3], h)
  end
end
if took and lease ~= '0' then redis.call('PEXPIRE', KEYS[2], lease * 2) end
return out
`;

/**
 * RELEASE for several hashes in one call (releases grouped by the store, see releaseSoon()).
 * KEYS: locks index, owner set. ARGV: owner text, lock key prefix, hash…
 */
export const RELEASE_MANY = `
local owner, pre = ARGV[1], ARGV[2]
for i = 3, #ARGV do
  local h = ARGV[i]
  local k = pre .. h
  if redis.call('GET', k) == owner then
    redis.call('DEL', k)
    redis.call('SREM', KEYS[1], h)
  end
  redis.call('SREM', KEYS[2], h)
end
return 1
`;

/**
 * Mark a held lock failed (no expiry), with its record. KEYS: lock, owner set. ARGV: owner text,
 * failure value, hash. 1 if marked (now or by an earlier try of this call), 0 if not held.
 */
export const FAIL = `
local v = redis.call('GET', KEYS[1])
if v == ARGV[2] then return 1 end
if v ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2])
redis.call('SREM', KEYS[2], ARGV[3])
return 1
`;

/**
 * The heartbeat: renew every lock of the owner's set that the owner still holds; forget the others.
 * KEYS: owner set. ARGV: owner text, lock key prefix, lease ms. Returns how many were renewed.
 */
export const RENEW = `
local n = 0
for _, h in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local k = ARGV[2] .. h
  if redis.call('GET', k) == ARGV[1] then
    redis.call('PEXPIRE', k, ARGV[3])
    n = n + 1
  else
    redis.call('SREM', KEYS[1], h)
  end
end
if n > 0 then redis.call('PEXPIRE', KEYS[1], ARGV[3] * 2) end
return n
`;

/**
 * Every lock: flat array hash, value, pttl; forgets index entries whose lease expired.
 * KEYS: locks index. ARGV: lock key prefix.
 */
export const LIST_LOCKS = `
local out = {}
for _, h in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local k = ARGV[1] .. h
  local v = redis.call('GET', k)
  if v then
    out[#out + 1] = h
    out[#out + 1] = v
    out[#out + 1] = redis.call('PTTL', k)
  else
    redis.call('SREM', KEYS[1], h)
  end
end
return out
`;

/** Delete a lock only if it still has the value seen. KEYS: lock, locks index. ARGV: value, hash. */
export const DELETE_IF = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
redis.call('SREM', KEYS[2], ARGV[2])
return 1
`;

/** Remove a failure mark (never a running task's lock). KEYS: lock, locks index. ARGV: mark prefix, hash. */
export const REMOVE_FAILED = `
local v = redis.call('GET', KEYS[1])
if not v or string.sub(v, 1, string.len(ARGV[1])) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
redis.call('SREM', KEYS[2], ARGV[2])
return 1
`;

/**
 * Move a corrupt result aside, only if it is still the bytes found corrupt.
 * KEYS: results, corrupt. ARGV: hash, bytes.
 */
export const SET_ASIDE = `
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('HDEL', KEYS[1], ARGV[1])
return 1
`;

/** The run records and their compaction generation. KEYS: runs list, generation. Returns {generation, records}. */
export const READ_RUNS = `
return {redis.call('GET', KEYS[2]) or '0', redis.call('LRANGE', KEYS[1], 0, -1)}
`;

/**
 * Compact the run records: replace the first n (those read, at the generation seen) by the ones
 * kept, keeping every record appended since (appends only add at the end); nothing if another
 * compaction ran since the read (the generation changed). KEYS: runs list, generation. ARGV:
 * generation seen, n, record kept…  Returns 1 if compacted, 0 if not.
 */
export const COMPACT_RUNS = `
if (redis.call('GET', KEYS[2]) or '0') ~= ARGV[1] then return 0 end
local rest = redis.call('LRANGE', KEYS[1], tonumber(ARGV[2]), -1)
redis.call('DEL', KEYS[1])
local function push(t, from, to)
  for i = from, to, 1000 do redis.call('RPUSH', KEYS[1], unpack(t, i, math.min(i + 999, to))) end
end
push(ARGV, 3, #ARGV)
push(rest, 1, #rest)
redis.call('INCR', KEYS[2])
return 1
`;
