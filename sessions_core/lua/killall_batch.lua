-- One bounded batch of killall: end up to ARGV[5] sessions of an app.
-- The end state is that of `remove_session` (the original's `_kill`) run on each session, but
-- like wipe_batch.lua the keys a batch shares (hashes, the app's zsets, {ns}:SESSIONS) take
-- one variadic command each, and a user's token set one SREM and one EXISTS however many of
-- the user's sessions the batch holds. Every session still gets its own cache message.
-- ARGV[5] must stay below Lua's unpack limit (~8000).
-- KEYS: 1 app _sessions, 2 app _users, 3 {ns}:SESSIONS
-- ARGV: 1 app, 2 prefix of session hashes ('{ns}:{app}:'), 3 prefix of user token sets
--       ('{ns}:{app}:us:'), 4 cache channel, 5 batch size
-- Returns {removed, left}: index entries removed in this batch, and how many the app has left.
local members = redis.call('ZRANGE', KEYS[1], 0, tonumber(ARGV[5]) - 1)
if #members == 0 then
  return {0, 0}
end
local hashes, globals, users, tokens_of = {}, {}, {}, {}
for i, member in ipairs(members) do
  local token, id = split_token_member(member)
  hashes[i] = ARGV[2] .. token
  globals[i] = ARGV[1] .. ':' .. member
  local tokens = tokens_of[id]
  if not tokens then
    tokens = {}
    tokens_of[id] = tokens
    table.insert(users, id)
  end
  table.insert(tokens, token)
  redis.call('PUBLISH', ARGV[4], ARGV[1] .. ':' .. token)
end
local gone_users = {}
for _, id in ipairs(users) do
  local user_tokens = ARGV[3] .. id
  redis.call('SREM', user_tokens, unpack(tokens_of[id]))
  if redis.call('EXISTS', user_tokens) == 0 then
    table.insert(gone_users, id)
  end
end
redis.call('DEL', unpack(hashes))
redis.call('ZREM', KEYS[1], unpack(members))
redis.call('ZREM', KEYS[3], unpack(globals))
if #gone_users > 0 then
  redis.call('ZREM', KEYS[2], unpack(gone_users))
end
return {#members, redis.call('ZCARD', KEYS[1])}
