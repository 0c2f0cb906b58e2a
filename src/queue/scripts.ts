import { defineLua } from './redis-client.js';

/**
 * The queue's Lua scripts. Each runs atomically on the server, which is what makes the
 * guarantees hold without MULTI/WATCH: under Redis 7.0 WATCH does not see a consumer
 * group change (XACK, XCLAIM), so "ack, then add the result if the ack counted" must be
 * one script, not a transaction.
 */

/** Lua helpers for stream ids: compare, and the id right after one. */
const ID_LUA = `
local function parse(id)
  local ms, seq = string.match(id, '^(%d+)-(%d+)$')
  return tonumber(ms), tonumber(seq)
end
local function less(a, b)
  local am, as = parse(a)
  local bm, bs = parse(b)
  return am < bm or (am == bm and as < bs)
end
local function field(flat, name)
  for i = 1, #flat, 2 do if flat[i] == name then return flat[i + 1] end end
  return nil
end
`;

/** Adds one entry `d=<line>` per ARGV to KEYS[1]. Returns the number added. */
export const PUSH_LINES = defineLua(`
for i = 1, #ARGV do redis.call('XADD', KEYS[1], '*', 'd', ARGV[i]) end
return #ARGV
`);

/**
 * Defines pending(key, group, lo, hi, ids, consumer): the pending entries among `ids`, as a
 * set, from one XPENDING range scan from `lo` to `hi` (their lowest and highest id, found
 * by the caller: parsing ids in Lua cost ~3 µs per entry), paged, not one call per id. A
 * chunk's entries are consecutive in the stream, so the scan finds little else. With
 * `consumer`, only the entries it owns.
 */
const PENDING_LUA = `
local function pending(key, group, lo, hi, ids, consumer)
  local set = {}
  if #ids == 0 then return set end
  local from = lo
  while true do
    local p
    if consumer then p = redis.call('XPENDING', key, group, from, hi, #ids, consumer) else p = redis.call('XPENDING', key, group, from, hi, #ids) end
    for _, e in ipairs(p) do set[e[1]] = true end
    if #p < #ids then return set end
    from = '(' .. p[#p][1]
  end
end
`;

/**
 * Records one handler start per entry, only for entries this consumer still owns (it may
 * have lost one to XAUTOCLAIM while it sat in a batch). KEYS: in, starts. ARGV: group,
 * consumer, lowest id, highest id, ids…. Returns per id the starts so far including this
 * one, 0 when not owned. A few calls per chunk whatever its size (an ownership scan, HMGET, HSET), not two per
 * entry (XPENDING, HINCRBY).
 */
export const NOTE_STARTS = defineLua(`${PENDING_LUA}
local asked = {}
for i = 5, #ARGV do asked[#asked + 1] = ARGV[i] end
local owned = pending(KEYS[1], ARGV[1], ARGV[3], ARGV[4], asked, ARGV[2])
local ids = {}
for _, id in ipairs(asked) do if owned[id] then ids[#ids + 1] = id end end
local counts = {}
if #ids > 0 then
  local before = redis.call('HMGET', KEYS[2], unpack(ids))
  local args = {KEYS[2]}
  for k, id in ipairs(ids) do
    -- An id asked twice in one call counts twice, as two calls would.
    counts[id] = (counts[id] or tonumber(before[k]) or 0) + 1
    args[#args + 1] = id
    -- A string: a Lua number costs Redis a conversion per field (~0.7 µs).
    args[#args + 1] = tostring(counts[id])
  end
  redis.call('HSET', unpack(args))
end
local out = {}
for _, id in ipairs(asked) do out[#out + 1] = counts[id] or 0 end
return out
`);

/**
 * Acks input entries and adds their results to :out, each result only when its ack
 * removed a pending entry: a record finished by two consumers yields one result.
 * KEYS: in, out, starts. ARGV: group, lowest id, highest id, then per entry: id, line
 * count, lines…. Returns per entry 1 (acked here, results added) or 0 (already acked
 * elsewhere). Which entries are pending comes from one range scan, and those are acked
 * by one XACK and one HDEL: per entry, only each result line's XADD is a call of its own.
 * The script is atomic, so "pending at the scan" is "removed by this XACK".
 */
export const ACK_WITH_RESULTS = defineLua(`${PENDING_LUA}
local ids = {}
local i = 4
while i <= #ARGV do
  ids[#ids + 1] = ARGV[i]
  i = i + 2 + tonumber(ARGV[i + 1])
end
local live = pending(KEYS[1], ARGV[1], ARGV[2], ARGV[3], ids, nil)
local out = {}
local acked = {}
i = 4
while i <= #ARGV do
  local id = ARGV[i]
  local n = tonumber(ARGV[i + 1])
  if live[id] then
    live[id] = nil
    acked[#acked + 1] = id
    for k = 1, n do redis.call('XADD', KEYS[2], '*', 'd', ARGV[i + 1 + k], 'in', id) end
    out[#out + 1] = 1
  else
    out[#out + 1] = 0
  end
  i = i + 2 + n
end
if #acked > 0 then
  redis.call('XACK', KEYS[1], ARGV[1], unpack(acked))
  redis.call('HDEL', KEYS[3], unpack(acked))
end
return out
`);

/** Acks entries whose output was written elsewhere. KEYS: in, starts. ARGV: group, ids…. Returns the number acked. */
export const ACK = defineLua(`
local ids = {}
for i = 2, #ARGV do ids[#ids + 1] = ARGV[i] end
local n = redis.call('XACK', KEYS[1], ARGV[1], unpack(ids))
redis.call('HDEL', KEYS[2], unpack(ids))
return n
`);

/**
 * Moves an entry to :dead and acks it, both or neither; added only when the ack removed a
 * pending entry. KEYS: in, dead, starts. ARGV: group, id, line, starts, error JSON,
 * consumer. Returns 1 when moved here.
 */
export const DEAD_LETTER = defineLua(`
local acked = redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
if acked == 1 then
  redis.call('XADD', KEYS[2], '*', 'd', ARGV[3], 'in', ARGV[2], 'starts', ARGV[4], 'error', ARGV[5], 'consumer', ARGV[6])
  redis.call('HDEL', KEYS[3], ARGV[2])
end
return acked
`);

/**
 * The heartbeat: resets the idle time of every entry this consumer owns, so none is
 * claimed by another consumer while this one lives. XPENDING filtered by consumer lists
 * exactly the entries it still owns; XCLAIM … JUSTID does not count a delivery.
 * KEYS: in. ARGV: group, consumer, max entries. Returns the number extended.
 */
export const HEARTBEAT = defineLua(`
local p = redis.call('XPENDING', KEYS[1], ARGV[1], '-', '+', tonumber(ARGV[3]), ARGV[2])
-- In slices: unpack() of more than ~8000 values overflows Lua's C stack.
-- unpack() must come last in a call: in the middle of an argument list Lua keeps only its first value.
for first = 1, #p, 1000 do
  local args = {KEYS[1], ARGV[1], ARGV[2], 0}
  for i = first, math.min(#p, first + 999) do args[#args + 1] = p[i][1] end
  args[#args + 1] = 'JUSTID'
  redis.call('XCLAIM', unpack(args))
end
return #p
`);


/**
 * The state `drained()` needs, read at one instant. KEYS: in. ARGV: group.
 * Returns {last generated id, last delivered id, pending} or {} without stream or group.
 */
export const DRAIN_STATE = defineLua(`${ID_LUA}
if redis.call('EXISTS', KEYS[1]) == 0 then return {} end
local stream = redis.call('XINFO', 'STREAM', KEYS[1])
for _, g in ipairs(redis.call('XINFO', 'GROUPS', KEYS[1])) do
  if field(g, 'name') == ARGV[1] then
    return {field(stream, 'last-generated-id'), field(g, 'last-delivered-id'), field(g, 'pending')}
  end
end
return {}
`);

/**
 * Removes the entries every group is done with, never a pending or undelivered one: the
 * bound is, over all groups, the oldest pending id, or the id after the last delivered
 * one when a group has nothing pending. XTRIM MINID removes only ids below the bound
 * (MAXLEN would count from the end and could cut pending entries). KEYS: stream.
 * Returns the number of entries removed.
 */
export const TRIM_ACKED = defineLua(`${ID_LUA}
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local groups = redis.call('XINFO', 'GROUPS', KEYS[1])
if #groups == 0 then return 0 end
local bound = nil
for _, g in ipairs(groups) do
  local name = field(g, 'name')
  local candidate
  if tonumber(field(g, 'pending')) > 0 then
    candidate = redis.call('XPENDING', KEYS[1], name, '-', '+', 1)[1][1]
  else
    local ms, seq = parse(field(g, 'last-delivered-id'))
    -- Beyond 2^53 a Lua number loses the +1; keeping the last delivered entry is safe.
    if seq < 9007199254740991 then candidate = string.format('%d-%d', ms, seq + 1) else candidate = field(g, 'last-delivered-id') end
  end
  if bound == nil or less(candidate, bound) then bound = candidate end
end
return redis.call('XTRIM', KEYS[1], 'MINID', bound)
`);

/**
 * Moves up to ARGV[1] dead letters back to :in, as new entries holding the same line.
 * KEYS: dead, in. Returns the number moved.
 */
export const RETRY_DEAD = defineLua(`${ID_LUA}
local entries = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', tonumber(ARGV[1]))
for _, e in ipairs(entries) do
  redis.call('XADD', KEYS[2], '*', 'd', field(e[2], 'd') or '')
  redis.call('XDEL', KEYS[1], e[1])
end
return #entries
`);

/** Removes this consumer from the group when it owns no entry. KEYS: in. ARGV: group, consumer. */
export const FORGET_CONSUMER = defineLua(`
local p = redis.call('XPENDING', KEYS[1], ARGV[1], '-', '+', 1, ARGV[2])
if #p > 0 then return 0 end
return redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], ARGV[2])
`);
