/**
 * Lua scripts of `state.redis`. Each key is a hash with fields `data`, `version` (the ETag, an
 * integer incremented on every write) and, once written with first-write concurrency,
 * `first-write` = 0: Dapr's layout. The checks follow Dapr's scripts: a write passes when the
 * key has no version, when the expected version matches, or when no ETag was given ("0") and
 * the key was never written with first-write; a delete passes when the key has no version,
 * the version matches, or no ETag was given. A key holding another type (a plain string from
 * Dapr's oldest layout) counts as absent and is replaced.
 *
 * Every script answers a failed check with an error reply starting with {@link ETAG_MISMATCH}.
 */

/** Prefix of the error reply a script sends when an ETag check fails. */
export const ETAG_MISMATCH = 'TAPRETAG';

/** The shared check helpers; `opts` of a write are (expected, firstWrite, ttl). */
const HELPERS = `
local function current(key)
  local version = redis.pcall('HGET', key, 'version')
  if type(version) == 'table' then
    return { version = false, firstWrite = false, wrongType = true }
  end
  return {
    version = version,
    firstWrite = redis.call('HEXISTS', key, 'first-write') == 1,
    wrongType = false,
  }
end

local function canWrite(state, expected)
  if not state.version or state.version == '' or state.version == expected then
    return true
  end
  return expected == '0' and not state.firstWrite
end

local function canDelete(state, expected)
  return not state.version or state.version == '' or state.version == expected
    or expected == '0'
end

local function write(key, state, data, firstWrite, ttl)
  if state.wrongType then
    redis.call('DEL', key)
  end
  redis.call('HSET', key, 'data', data)
  if firstWrite == '0' then
    redis.call('HSET', key, 'first-write', 0)
  end
  local version = redis.call('HINCRBY', key, 'version', 1)
  local seconds = tonumber(ttl)
  if seconds and seconds > 0 then
    redis.call('EXPIRE', key, seconds)
  elseif seconds then
    redis.call('PERSIST', key)
  end
  return version
end
`;

/**
 * One write. KEYS[1] the key; ARGV: expected version ("0" for none), data, first-write flag
 * ("0" = first-write, as Dapr passes it), TTL seconds ("" keeps the current expiry, <= 0
 * removes it). Returns the new version. Unlike Dapr, which sends EXPIRE after the script, the
 * expiry is set in the same atomic step.
 */
export const SET_SCRIPT = `${HELPERS}
local key = KEYS[1]
local state = current(key)
if not canWrite(state, ARGV[1]) then
  return redis.error_reply('${ETAG_MISMATCH} failed to set key ' .. key)
end
return write(key, state, ARGV[2], ARGV[3], ARGV[4])
`;

/** One delete. KEYS[1] the key; ARGV[1] the expected version ("0" for none). */
export const DELETE_SCRIPT = `${HELPERS}
local key = KEYS[1]
if not canDelete(current(key), ARGV[1]) then
  return redis.error_reply('${ETAG_MISMATCH} failed to delete ' .. key)
end
return redis.call('DEL', key)
`;

/** Arguments each transaction operation takes in {@link MULTI_SCRIPT}'s ARGV. */
const MULTI_ARGS_PER_OPERATION = 5;

/**
 * A transaction, all or nothing. KEYS[i] is operation i's key; ARGV holds five values per
 * operation: "set" or "delete", expected version, data, first-write flag, TTL. Every check runs
 * first against a simulated view of the keys (so an operation sees the earlier ones' effects),
 * and nothing is written unless all pass. Dapr queues its scripts in MULTI/EXEC, which has no
 * rollback: an ETag mismatch there still applies the other operations.
 */
export const MULTI_SCRIPT = `${HELPERS}
local n = #KEYS
local view = {}
for i = 1, n do
  local key = KEYS[i]
  local base = (i - 1) * ${MULTI_ARGS_PER_OPERATION}
  local state = view[key]
  if not state then
    state = current(key)
    view[key] = state
  end
  if ARGV[base + 1] == 'set' then
    if not canWrite(state, ARGV[base + 2]) then
      return redis.error_reply('${ETAG_MISMATCH} failed to set key ' .. key)
    end
    if state.wrongType then
      state.firstWrite = false
    end
    state.version = tostring((tonumber(state.version) or 0) + 1)
    state.wrongType = false
    if ARGV[base + 4] == '0' then
      state.firstWrite = true
    end
  else
    if not canDelete(state, ARGV[base + 2]) then
      return redis.error_reply('${ETAG_MISMATCH} failed to delete ' .. key)
    end
    view[key] = { version = false, firstWrite = false, wrongType = false }
  end
end
for i = 1, n do
  local key = KEYS[i]
  local base = (i - 1) * ${MULTI_ARGS_PER_OPERATION}
  if ARGV[base + 1] == 'set' then
    write(key, current(key), ARGV[base + 3], ARGV[base + 4], ARGV[base + 5])
  else
    redis.call('DEL', key)
  end
end
return n
`;
