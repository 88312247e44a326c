-- Count members of a zset scored by last activity within each of several windows.
-- KEYS: 1 a zset scored by unix time (app _users or app _sessions)
-- ARGV: window lengths in seconds
-- Returns {now, count within ARGV[1], count within ARGV[2], ...}.
local now = server_now()
local result = {now}
for i = 1, #ARGV do
  table.insert(result, redis.call('ZCOUNT', KEYS[1], now - tonumber(ARGV[i]), '+inf'))
end
return result
