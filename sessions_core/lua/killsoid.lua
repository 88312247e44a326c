-- One bounded batch of killsoid: end up to ARGV[5] sessions of one id in one app.
-- The end state per session is that of `remove_session` (the original's `_kill`), with bulk
-- commands for the keys a batch shares, so an id with 100k sessions never holds Redis long.
-- KEYS: 1 the user's token set, 2 app _sessions, 3 app _users, 4 {ns}:SESSIONS
-- ARGV: 1 id, 2 app, 3 prefix of session hashes ('{ns}:{app}:'), 4 cache channel,
--       5 batch size (below Lua's unpack limit, ~8000), 6 '1' to publish the cache messages
--       together (a cluster; see publish_all)
-- Returns {killed, left}: session hashes deleted in this batch, and tokens the id has left.
-- A token set of another type (another program's key) is left alone: {0, 0}.
local kind = redis.call('TYPE', KEYS[1]).ok
if kind ~= 'set' then
  if kind == 'none' then
    redis.pcall('ZREM', KEYS[3], ARGV[1])
  end
  return {0, 0}
end
local id, app, channel = ARGV[1], ARGV[2], ARGV[4]
local tokens = redis.call('SRANDMEMBER', KEYS[1], tonumber(ARGV[5]))
local hashes, members, globals, messages = {}, {}, {}, {}
for i, token in ipairs(tokens) do
  hashes[i] = ARGV[3] .. token
  members[i] = token .. ':' .. id
  globals[i] = app .. ':' .. token .. ':' .. id
  messages[i] = app .. ':' .. token
end
publish_all(channel, messages, ARGV[6] == '1')
local killed = 0
if #tokens > 0 then
  -- Only alphanumeric tokens name session hashes; another program's odd member is dropped.
  local real = {}
  for i, token in ipairs(tokens) do
    if token ~= '' and not string.find(token, '[^%w]') then
      real[#real + 1] = hashes[i]
    end
  end
  if #real > 0 then
    killed = redis.call('DEL', unpack(real))
  end
  redis.call('SREM', KEYS[1], unpack(tokens))
  redis.pcall('ZREM', KEYS[2], unpack(members))
  redis.pcall('ZREM', KEYS[4], unpack(globals))
end
local left = redis.call('SCARD', KEYS[1])
if left == 0 then
  redis.pcall('ZREM', KEYS[3], id)
end
return {killed, left}
