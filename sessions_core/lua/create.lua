-- Create one session with all of its index entries in one atomic step. Index keys of another
-- type (another program's) are left alone (see the prelude).
-- KEYS: 1 session hash, 2 app _sessions zset, 3 app _users zset, 4 {ns}:SESSIONS zset,
--       5 user's token set (us:{id}), 6 our app registry set
-- ARGV: 1 token, 2 id, 3 ip, 4 ttl, 5 d as JSON text ('' = none), 6 no_resave ('1' or ''),
--       7 app
-- Returns the server time used as `la`.
local now = server_now()
local token, id, app = ARGV[1], ARGV[2], ARGV[7]
local ttl = tonumber(ARGV[4])
redis.pcall('ZADD', KEYS[2], now, token .. ':' .. id)
redis.pcall('ZADD', KEYS[3], now, id)
redis.pcall('ZADD', KEYS[4], now + ttl, app .. ':' .. token .. ':' .. id)
redis.pcall('SADD', KEYS[5], token)
local fields = {'id', id, 'r', 1, 'w', 1, 'ip', ARGV[3], 'la', now, 'ttl', ttl}
if ARGV[5] ~= '' then
  table.insert(fields, 'd')
  table.insert(fields, ARGV[5])
end
if ARGV[6] == '1' then
  table.insert(fields, 'no_resave')
  table.insert(fields, 1)
end
redis.call('HSET', KEYS[1], unpack(fields))
redis.pcall('SADD', KEYS[6], app)
return now
