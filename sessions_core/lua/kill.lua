-- Kill one session. Like the original, a timed-out session counts as not found (the wipe
-- removes it).
-- KEYS: 1 session hash, 2 app _sessions, 3 app _users, 4 {ns}:SESSIONS
-- ARGV: 1 token, 2 app, 3 prefix of the user's token sets ('{ns}:{app}:us:'), 4 cache channel
-- Returns 1 when a live session was removed, else 0.
local s = redis.call('HMGET', KEYS[1], 'id', 'ttl', 'la')
if not s[1] then
  return 0
end
if (tonumber(s[2]) or 0) < server_now() - (tonumber(s[3]) or 0) then
  return 0
end
return remove_session(KEYS[1], KEYS[2], KEYS[3], KEYS[4], ARGV[3] .. s[1],
                      ARGV[1], s[1], ARGV[2], ARGV[4])
