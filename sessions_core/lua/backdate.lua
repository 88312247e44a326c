-- Demo data only: move one session's last activity `idle` seconds into the past, as if the
-- user had last been seen then. Updates every index the way a `get` at that time would have.
-- KEYS: 1 session hash, 2 app _sessions zset, 3 app _users zset, 4 {ns}:SESSIONS zset,
--       5 the user's token set (us:{id})
-- ARGV: 1 token, 2 id, 3 app, 4 idle seconds, 5 prefix of session hashes ('{ns}:{app}:')
-- Returns 1 when the session was backdated, 0 when it is unknown or belongs to another id.
local token, id, app = ARGV[1], ARGV[2], ARGV[3]
if redis.call('HGET', KEYS[1], 'id') ~= id then
  return 0
end
local la = server_now() - tonumber(ARGV[4])
local ttl = tonumber(redis.call('HGET', KEYS[1], 'ttl'))
redis.call('HSET', KEYS[1], 'la', la)
redis.call('ZADD', KEYS[2], la, token .. ':' .. id)
-- Both with and without no_resave a session expires at la + ttl (see touch.lua).
redis.call('ZADD', KEYS[4], la + ttl, app .. ':' .. token .. ':' .. id)
-- A user's score is the newest activity of any of their sessions.
local newest = la
for _, other in ipairs(redis.call('SMEMBERS', KEYS[5])) do
  local seen = tonumber(redis.call('HGET', ARGV[5] .. other, 'la'))
  if seen and seen > newest then
    newest = seen
  end
end
redis.call('ZADD', KEYS[3], newest, id)
return 1
