-- Sessions of an app active within the last ARGV[1] seconds, newest first (or oldest first
-- with ARGV[4] = 'asc'), one page.
-- KEYS: 1 app _sessions
-- ARGV: 1 window in seconds, 2 offset, 3 limit (-1 = all), 4 'asc' for oldest first,
--       5 'scores' to follow each member with its score (to merge a cluster's buckets)
-- Returns {now, total in window, member, member, ...} with members `{token}:{id}`.
local now = server_now()
local since = now - tonumber(ARGV[1])
local total = redis.call('ZCOUNT', KEYS[1], since, '+inf')
local result = {now, total}
-- The window holds exactly the `total` highest-ranked members, so a page is a rank range:
-- O(log N + limit). ZREVRANGEBYSCORE ... LIMIT offset would step over every skipped member
-- (O(offset): ~150 ms deep into 280k sessions).
local offset, limit = tonumber(ARGV[2]), tonumber(ARGV[3])
local stop = total - 1
if limit >= 0 then
  stop = math.min(stop, offset + limit - 1)
end
if offset <= stop then
  local members
  local range = {}
  if ARGV[5] == 'scores' then
    range = {'WITHSCORES'}
  end
  if ARGV[4] == 'asc' then
    -- Oldest first: the window is the top `total` ranks, so in ascending order it starts
    -- `total` ranks below the end.
    local base = redis.call('ZCARD', KEYS[1]) - total
    members = redis.call('ZRANGE', KEYS[1], base + offset, base + stop, unpack(range))
  else
    members = redis.call('ZREVRANGE', KEYS[1], offset, stop, unpack(range))
  end
  for _, member in ipairs(members) do
    table.insert(result, member)
  end
end
return result
