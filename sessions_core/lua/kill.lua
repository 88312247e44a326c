-- Kill one session. Like the original, a timed-out session counts as not found (the wipe
-- removes it). A session whose ttl or la another program wrote as a non-integer cannot be
-- judged timed out: it is killed.
-- KEYS: 1 session hash, 2 app _sessions, 3 app _users, 4 {ns}:SESSIONS
-- ARGV: 1 token, 2 app, 3 prefix of the user's token sets ('{ns}:{app}:us:'), 4 cache channel,
--       5 the id an index names for this token ('' = unknown)
-- Returns 1 when a live session was removed, else 0.
local kind = redis.call('TYPE', KEYS[1]).ok
if kind == 'none' then
  return 0
end
local id = ARGV[5]
if kind == 'hash' then
  local s = redis.call('HMGET', KEYS[1], 'id', 'ttl', 'la')
  if not s[1] then
    return 0
  end
  local ttl, la = int_field(s[2]), int_field(s[3])
  if ttl and la and ttl < server_now() - la then
    return 0
  end
  id = s[1]
elseif id == '' then
  -- Another program's key of another type where a session would be: without the id that
  -- indexes it, it cannot be told apart from a key that is no session. Left alone.
  return 0
end
return remove_session(KEYS[1], KEYS[2], KEYS[3], KEYS[4], ARGV[3] .. id,
                      ARGV[1], id, ARGV[2], ARGV[4])
