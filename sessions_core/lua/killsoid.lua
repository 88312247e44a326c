-- Kill every session of one id in one app.
-- KEYS: 1 the user's token set, 2 app _sessions, 3 app _users, 4 {ns}:SESSIONS
-- ARGV: 1 id, 2 app, 3 prefix of session hashes ('{ns}:{app}:'), 4 cache channel
-- Returns the number of session hashes deleted.
local killed = 0
for _, token in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  killed = killed + remove_session(ARGV[3] .. token, KEYS[2], KEYS[3], KEYS[4], KEYS[1],
                                   token, ARGV[1], ARGV[2], ARGV[4])
end
redis.call('ZREM', KEYS[3], ARGV[1])
return killed
