-- Sessions of an app active within the last ARGV[1] seconds, newest first, one page.
-- KEYS: 1 app _sessions
-- ARGV: 1 window in seconds, 2 offset, 3 limit (-1 = all)
-- Returns {now, total in window, member, member, ...} with members `{token}:{id}`.
local now = server_now()
local since = now - tonumber(ARGV[1])
local result = {now, redis.call('ZCOUNT', KEYS[1], since, '+inf')}
local members = redis.call('ZREVRANGEBYSCORE', KEYS[1], '+inf', since,
                           'LIMIT', tonumber(ARGV[2]), tonumber(ARGV[3]))
for _, member in ipairs(members) do
  table.insert(result, member)
end
return result
