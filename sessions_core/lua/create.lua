-- Create sessions (one, or a chunk of create_many) with all their index entries in one atomic
-- step. The keys the sessions share take one variadic command each. Index keys of another
-- type (another program's) are left alone (see the prelude).
-- KEYS: 1 app _sessions zset, 2 app _users zset, 3 {ns}:SESSIONS zset (on a cluster: the
--       bucket's), 4 our app registry set (not on a cluster: another slot), then per session:
--       its hash, its user's token set (us:{id})
-- ARGV: 1 app, 2 '1' when KEYS[4] is the registry, then per session six: token, id, ip, ttl,
--       d as JSON text ('' = none), no_resave ('1' or '')
-- Returns the server time used as `la`.
local now = server_now()
local app = ARGV[1]
local registry = ARGV[2] == '1'
local first = registry and 5 or 4
local members, users, globals = {}, {}, {}
for i = 0, (#ARGV - 2) / 6 - 1 do
  local a, k = 3 + 6 * i, first + 2 * i
  local token, id, ttl = ARGV[a], ARGV[a + 1], tonumber(ARGV[a + 3])
  members[#members + 1] = now
  members[#members + 1] = token .. ':' .. id
  users[#users + 1] = now
  users[#users + 1] = id
  globals[#globals + 1] = now + ttl
  globals[#globals + 1] = app .. ':' .. token .. ':' .. id
  redis.pcall('SADD', KEYS[k + 1], token)
  local fields = {'id', id, 'r', 1, 'w', 1, 'ip', ARGV[a + 2], 'la', now, 'ttl', ttl}
  if ARGV[a + 4] ~= '' then
    fields[#fields + 1] = 'd'
    fields[#fields + 1] = ARGV[a + 4]
  end
  if ARGV[a + 5] == '1' then
    fields[#fields + 1] = 'no_resave'
    fields[#fields + 1] = 1
  end
  redis.call('HSET', KEYS[k], unpack(fields))
end
redis.pcall('ZADD', KEYS[1], unpack(members))
redis.pcall('ZADD', KEYS[2], unpack(users))
redis.pcall('ZADD', KEYS[3], unpack(globals))
if registry then
  redis.pcall('SADD', KEYS[4], app)
end
return now
