-- On a cluster: drop apps found without sessions from the registry hash, unless one was
-- registered within the last ARGV[1] seconds. A process registers its app at most once a
-- minute (REGISTERED_SECONDS), so an app registered less than two of those ago may have
-- sessions created since its buckets were looked at: it stays. A create that registers
-- after this script puts the app back.
-- KEYS: 1 the registry hash
-- ARGV: 1 seconds, 2.. the apps found without sessions
-- Returns the apps dropped.
local kind = redis.call('TYPE', KEYS[1]).ok
if kind ~= 'hash' then
  return {}
end
local before = server_now() - tonumber(ARGV[1])
local dropped = {}
for i = 2, #ARGV do
  local seen = tonumber(redis.call('HGET', KEYS[1], ARGV[i]))
  if not seen or seen < before then
    redis.call('HDEL', KEYS[1], ARGV[i])
    dropped[#dropped + 1] = ARGV[i]
  end
end
return dropped
