-- One bounded batch of the wipe: remove up to ARGV[1] sessions whose expiry in
-- {ns}:SESSIONS has passed, with all their index entries. The end state is that of
-- `remove_session` (the original's `_kill`) run on each, but the keys shared by a batch
-- ({ns}:SESSIONS, hashes, each app's zsets) take one variadic command per batch or app, so a
-- session costs 3 calls (SREM, EXISTS, PUBLISH) instead of 7 and a batch a few ms of Redis.
-- Members are `{app}:{token}:{id}`; ids may hold ':', so only the first two colons split (the
-- original truncates the id). A member without two colons, an app name or an alphanumeric token
-- names no session: it leaves the index uncounted (the original's wipe would leave it forever).
-- ARGV[1] must stay below Lua's unpack limit (~8000).
-- KEYS: 1 {ns}:SESSIONS
-- ARGV: 1 batch size, 2 namespace prefix ('{ns}:'), 3 cache channel,
--       4 suffix of app session zsets ('_sessions'), 5 suffix of app user zsets ('_users'),
--       6 infix of user token sets ('us:'), 7 and 8 the shortest and longest app name,
--       9 what follows the app name in the prefix of its session hashes (':'; on a cluster
--       the rest of the bucket's hash tag, ARGV[2] then ending in '{'), 10 '1' to publish the
--       cache messages together (a cluster; see publish_all)
-- Returns {taken, {app1, removed1, app2, removed2, ...}, {foreign key, ...}}: members taken
-- from the index (the caller pages on it), sessions removed per app, and index keys of another
-- type that were left alone.
-- Expiry is la + ttl and a session lives while idle <= ttl: expired means score < now.
local members = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. server_now(),
                           'LIMIT', 0, tonumber(ARGV[1]))
if #members == 0 then
  return {0, {}, {}}
end
local hashes, groups, apps, foreign, messages = {}, {}, {}, {}, {}
local find, sub, call, pcall = string.find, string.sub, redis.call, redis.pcall
local prefix, channel, user_infix = ARGV[2], ARGV[3], ARGV[6]
local min_app, max_app = tonumber(ARGV[7]), tonumber(ARGV[8])
-- A write to a key of another type (another program's) fails without ending the script;
-- the key is left alone and named in the reply, once per batch.
local function written(reply, key)
  if type(reply) == 'table' and reply.err then
    foreign[#foreign + 1] = key
    return false
  end
  return true
end
for _, member in ipairs(members) do
  local first = find(member, ':', 1, true)
  local second = first and find(member, ':', first + 1, true)
  -- An app name as the original allows it, and an alphanumeric token; anything else names
  -- no session (and could name an index key): it only leaves the index.
  if second and first > min_app and first <= max_app + 1 and find(member, '[^%w_%-]') == first
     and second > first + 1 and find(member, '[^%w]', first + 1) == second then
    local app = sub(member, 1, first - 1)
    local group = groups[app]
    if not group then
      local base = prefix .. app .. ARGV[9]
      group = {base = base, users = base .. user_infix, sessions = {}, gone_users = {}}
      groups[app] = group
      apps[#apps + 1] = app
    end
    local token = sub(member, first + 1, second - 1)
    local id = sub(member, second + 1)
    hashes[#hashes + 1] = group.base .. token
    local sessions = group.sessions
    sessions[#sessions + 1] = sub(member, first + 1)
    local user_tokens = group.users .. id
    if written(pcall('SREM', user_tokens, token), user_tokens)
       and call('EXISTS', user_tokens) == 0 then
      local gone = group.gone_users
      gone[#gone + 1] = id
    end
    messages[#messages + 1] = sub(member, 1, second - 1)
  end
end
publish_all(channel, messages, ARGV[10] == '1')
call('ZREM', KEYS[1], unpack(members))
if #hashes > 0 then
  call('DEL', unpack(hashes))
end
local per_app = {}
for _, app in ipairs(apps) do
  local group = groups[app]
  local app_sessions = group.base .. ARGV[4]
  written(pcall('ZREM', app_sessions, unpack(group.sessions)), app_sessions)
  if #group.gone_users > 0 then
    local app_users = group.base .. ARGV[5]
    written(pcall('ZREM', app_users, unpack(group.gone_users)), app_users)
  end
  per_app[#per_app + 1] = app
  per_app[#per_app + 1] = #group.sessions
end
return {#members, per_app, foreign}
