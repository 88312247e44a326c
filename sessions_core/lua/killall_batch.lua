-- One bounded batch of killall: end up to ARGV[5] sessions of an app.
-- KEYS: 1 app _sessions, 2 app _users, 3 {ns}:SESSIONS
-- ARGV: 1 app, 2 prefix of session hashes ('{ns}:{app}:'), 3 prefix of user token sets
--       ('{ns}:{app}:us:'), 4 cache channel, 5 batch size
-- Returns the number of sessions removed from the app's index in this batch.
local members = redis.call('ZRANGE', KEYS[1], 0, tonumber(ARGV[5]) - 1)
for _, member in ipairs(members) do
  local token, id = split_token_member(member)
  remove_session(ARGV[2] .. token, KEYS[1], KEYS[2], KEYS[3], ARGV[3] .. id,
                 token, id, ARGV[1], ARGV[4])
end
return #members
