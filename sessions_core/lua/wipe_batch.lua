-- One bounded batch of the wipe: remove up to ARGV[1] sessions whose expiry in
-- {ns}:SESSIONS has passed, with all their index entries. Members are `{app}:{token}:{id}`;
-- ids may hold ':', so only the first two colons split (the original truncates the id).
-- KEYS: 1 {ns}:SESSIONS
-- ARGV: 1 batch size, 2 namespace prefix ('{ns}:'), 3 cache channel,
--       4 suffix of app session zsets ('_sessions'), 5 suffix of app user zsets ('_users'),
--       6 infix of user token sets ('us:')
-- Returns {removed, app1, count1, app2, count2, ...}.
local members = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', server_now(),
                           'LIMIT', 0, tonumber(ARGV[1]))
local per_app, apps = {}, {}
for _, member in ipairs(members) do
  local sep = string.find(member, ':', 1, true)
  local app = string.sub(member, 1, sep - 1)
  local token, id = split_token_member(string.sub(member, sep + 1))
  local base = ARGV[2] .. app .. ':'
  remove_session(base .. token, base .. ARGV[4], base .. ARGV[5], KEYS[1],
                 base .. ARGV[6] .. id, token, id, app, ARGV[3])
  if not per_app[app] then
    per_app[app] = 0
    table.insert(apps, app)
  end
  per_app[app] = per_app[app] + 1
end
local result = {#members}
for _, app in ipairs(apps) do
  table.insert(result, app)
  table.insert(result, per_app[app])
end
return result
