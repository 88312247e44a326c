-- One bounded batch of the wipe: remove up to ARGV[1] sessions whose expiry in
-- {ns}:SESSIONS has passed, with all their index entries. The end state is that of
-- `remove_session` (the original's `_kill`) run on each, but the keys shared by a batch
-- ({ns}:SESSIONS, hashes, each app's zsets) take one variadic command per batch or app, so a
-- session costs 3 calls (SREM, EXISTS, PUBLISH) instead of 7 and a batch a few ms of Redis.
-- Members are `{app}:{token}:{id}`; ids may hold ':', so only the first two colons split (the
-- original truncates the id). A member without two colons names no session: it leaves the
-- index uncounted (the original's wipe would leave it there forever).
-- ARGV[1] must stay below Lua's unpack limit (~8000).
-- KEYS: 1 {ns}:SESSIONS
-- ARGV: 1 batch size, 2 namespace prefix ('{ns}:'), 3 cache channel,
--       4 suffix of app session zsets ('_sessions'), 5 suffix of app user zsets ('_users'),
--       6 infix of user token sets ('us:')
-- Returns {taken, app1, removed1, app2, removed2, ...}: members taken from the index (the
-- caller pages on it) and sessions removed per app.
local members = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', server_now(),
                           'LIMIT', 0, tonumber(ARGV[1]))
if #members == 0 then
  return {0}
end
local hashes, groups, apps = {}, {}, {}
for _, member in ipairs(members) do
  local app, token, id = string.match(member, '^([^:]+):([^:]+):(.*)$')
  if app then
    local base = ARGV[2] .. app .. ':'
    local group = groups[app]
    if not group then
      group = {sessions = {}, gone_users = {}}
      groups[app] = group
      table.insert(apps, app)
    end
    table.insert(hashes, base .. token)
    table.insert(group.sessions, token .. ':' .. id)
    local user_tokens = base .. ARGV[6] .. id
    redis.call('SREM', user_tokens, token)
    if redis.call('EXISTS', user_tokens) == 0 then
      table.insert(group.gone_users, id)
    end
    redis.call('PUBLISH', ARGV[3], app .. ':' .. token)
  end
end
redis.call('ZREM', KEYS[1], unpack(members))
if #hashes > 0 then
  redis.call('DEL', unpack(hashes))
end
local result = {#members}
for _, app in ipairs(apps) do
  local group = groups[app]
  local base = ARGV[2] .. app .. ':'
  redis.call('ZREM', base .. ARGV[4], unpack(group.sessions))
  if #group.gone_users > 0 then
    redis.call('ZREM', base .. ARGV[5], unpack(group.gone_users))
  end
  table.insert(result, app)
  table.insert(result, #group.sessions)
end
return result
