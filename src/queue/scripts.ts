import { defineLua } from './redis-client.js';

/**
 * The queue's Lua scripts. Each runs atomically on the server, which is what makes the
 * guarantees hold without MULTI/WATCH: under Redis 7.0 WATCH does not see a consumer
 * group change (XACK, XCLAIM), so "ack, then add the result if the ack counted" must be
 * one script, not a transaction.
 */

/** Adds one entry `d=<line>` per ARGV to KEYS[1]. Returns the number added. */
export const PUSH_LINES = defineLua(`
for i = 1, #ARGV do redis.call('XADD', KEYS[1], '*', 'd', ARGV[i]) end
return #ARGV
`);

/**
 * Records one handler start per entry, only for entries this consumer still owns (it may
 * have lost one to XAUTOCLAIM while it sat in a batch). KEYS: in, starts. ARGV: group,
 * consumer, ids…. Returns per id the starts so far including this one, 0 when not owned.
 */
export const NOTE_STARTS = defineLua(`
local out = {}
for i = 3, #ARGV do
  local id = ARGV[i]
  local p = redis.call('XPENDING', KEYS[1], ARGV[1], id, id, 1, ARGV[2])
  if #p == 1 then out[#out + 1] = redis.call('HINCRBY', KEYS[2], id, 1) else out[#out + 1] = 0 end
end
return out
`);

/**
 * Acks input entries and adds their results to :out, each result only when its ack
 * removed a pending entry: a record finished by two consumers yields one result.
 * KEYS: in, out, starts. ARGV: group, then per entry: id, line count, lines….
 * Returns per entry 1 (acked here, results added) or 0 (already acked elsewhere).
 */
export const ACK_WITH_RESULTS = defineLua(`
local out = {}
local i = 2
while i <= #ARGV do
  local id = ARGV[i]
  local n = tonumber(ARGV[i + 1])
  local acked = redis.call('XACK', KEYS[1], ARGV[1], id)
  if acked == 1 then
    for k = 1, n do redis.call('XADD', KEYS[2], '*', 'd', ARGV[i + 1 + k], 'in', id) end
    redis.call('HDEL', KEYS[3], id)
  end
  out[#out + 1] = acked
  i = i + 2 + n
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
