-- A bounded walk of an app's _users for ids starting with a prefix: up to ARGV[3] ZSCAN steps
-- of ARGV[2] members each, so one call holds Redis a few ms whatever the app's size.
-- KEYS: 1 app _users zset
-- ARGV: 1 cursor ('0' to start), 2 COUNT per step, 3 most steps, 4 MATCH pattern (the prefix
--       glob-escaped, then '*'), 5 stop once this many ids are found
-- Returns {next cursor ('0' when the walk is complete), id, id, ...}.
local cursor = ARGV[1]
local found = {}
local want = tonumber(ARGV[5])
for _ = 1, tonumber(ARGV[3]) do
  local reply = redis.call('ZSCAN', KEYS[1], cursor, 'MATCH', ARGV[4], 'COUNT', ARGV[2])
  cursor = reply[1]
  local items = reply[2]
  for i = 1, #items, 2 do
    found[#found + 1] = items[i]
  end
  if cursor == '0' or #found >= want then
    break
  end
end
local result = {cursor}
for i, id in ipairs(found) do
  result[i + 1] = id
end
return result
