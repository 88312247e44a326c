-- One bounded batch of killall: end up to ARGV[5] sessions of an app.
-- The end state is that of `remove_session` (the original's `_kill`) run on each session, but
-- like wipe_batch.lua the keys a batch shares take one variadic command each. Every session
-- still gets its own cache message.
-- When the batch holds every session the app has left (always, for apps up to the batch
-- size), the app's indexes go whole: the users' token sets, `_sessions` and `_users` are
-- deleted outright, as the original deletes the token sets. Otherwise each user's token set
-- loses the batch's tokens (one SREM and one EXISTS per user), so between batches every
-- remaining session keeps all of its index entries.
-- ARGV[5] must stay below Lua's unpack limit (~8000).
-- KEYS: 1 app _sessions, 2 app _users, 3 {ns}:SESSIONS
-- ARGV: 1 app, 2 prefix of session hashes ('{ns}:{app}:'), 3 prefix of user token sets
--       ('{ns}:{app}:us:'), 4 cache channel, 5 batch size, 6 '1' to publish the cache
--       messages together (a cluster; see publish_all)
-- Returns {removed, left}: sessions removed in this batch, and index entries the app has left.
-- Members that name no session (no ':', a token that is not alphanumeric) are dropped uncounted.
local batch = tonumber(ARGV[5])
local left = redis.call('ZCARD', KEYS[1])
if left == 0 then
  return {0, 0}
end
local members = redis.call('ZRANGE', KEYS[1], 0, batch - 1)
local call = redis.call
local app, hash_prefix, channel = ARGV[1], ARGV[2], ARGV[4]
local hashes, globals, users, tokens_of, messages = {}, {}, {}, {}, {}
for _, member in ipairs(members) do
  local token, id = split_token_member(member)
  if token then  -- another program's member that names no session just leaves the index
    hashes[#hashes + 1] = hash_prefix .. token
    globals[#globals + 1] = app .. ':' .. member
    local of = tokens_of[id]
    if of then
      of[#of + 1] = token
    else
      tokens_of[id] = {token}
      users[#users + 1] = id
    end
    messages[#messages + 1] = app .. ':' .. token
  end
end
publish_all(channel, messages, ARGV[6] == '1')
if #hashes > 0 then
  call('DEL', unpack(hashes))
  redis.pcall('ZREM', KEYS[3], unpack(globals))
end
if left <= batch then
  local user_sets = {}
  for i, id in ipairs(users) do
    user_sets[i] = ARGV[3] .. id
  end
  call('DEL', KEYS[1], KEYS[2], unpack(user_sets))
  return {#hashes, 0}
end
local gone_users = {}
for _, id in ipairs(users) do
  local user_tokens = ARGV[3] .. id
  redis.pcall('SREM', user_tokens, unpack(tokens_of[id]))
  if call('EXISTS', user_tokens) == 0 then
    gone_users[#gone_users + 1] = id
  end
end
call('ZREM', KEYS[1], unpack(members))
if #gone_users > 0 then
  redis.pcall('ZREM', KEYS[2], unpack(gone_users))
end
return {#hashes, left - #members}
