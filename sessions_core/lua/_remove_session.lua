-- Shared prelude of every script.
--
-- Another program may have written anything into the namespace. Index keys (`_sessions`,
-- `_users`, `us:{id}`, `{ns}:SESSIONS`) of another type are never written: their writes go
-- through `redis.pcall`, which leaves such a key alone instead of failing the script half-way
-- (Redis does not roll a script back). Session hashes are checked before the first write.

-- Removes one session and all of its index entries, exactly as redis-sessions 4.0.0's
-- `_kill` does, and publishes the cache message `{app}:{token}` so every in-process
-- cache (ours and Node's) drops it. Returns 1 when the session hash existed, else 0.
local function remove_session(hash, app_sessions, app_users, all_sessions, user_tokens,
                              token, id, app, channel)
  local existed = redis.call('DEL', hash)
  redis.pcall('ZREM', app_sessions, token .. ':' .. id)
  redis.pcall('SREM', user_tokens, token)
  redis.pcall('ZREM', all_sessions, app .. ':' .. token .. ':' .. id)
  if redis.call('EXISTS', user_tokens) == 0 then
    redis.pcall('ZREM', app_users, id)
  end
  redis.call('PUBLISH', channel, app .. ':' .. token)
  return existed
end

-- Split `{token}:{id}`: tokens never hold ':', ids may. A member whose token part is empty
-- or not alphanumeric names no session (its "hash" could be an index key): nil.
local function split_token_member(member)
  local sep = string.find(member, ':', 1, true)
  if not sep or sep == 1 or string.find(member, '[^%w]', 1) < sep then
    return nil
  end
  return string.sub(member, 1, sep - 1), string.sub(member, sep + 1)
end

-- A hash field that must hold an integer (r, w, ttl, la), as a number; nil when it holds
-- anything else ('abc', 'inf', 'nan', '1e3', 20 digits), which Lua's tonumber would accept.
local function int_field(value)
  if value and #value <= 15 and string.find(value, '^%-?%d+$') then
    return tonumber(value)
  end
  return nil
end

local function server_now()
  return tonumber(redis.call('TIME')[1])
end

-- Cache messages of a batch (killsoid, killall, the wipe): one PUBLISH each, as 4.0.0 sends
-- them (Node apps listen), or with `together` one PUBLISH of them all, space-separated. On a
-- cluster a PUBLISH is relayed to every node (about 9 µs of their CPU each), and no Node app
-- listens there: our listener splits a message on spaces (app names and tokens hold none).
local function publish_all(channel, messages, together)
  if #messages == 0 then
    return
  end
  if together then
    redis.call('PUBLISH', channel, table.concat(messages, ' '))
  else
    for _, message in ipairs(messages) do
      redis.call('PUBLISH', channel, message)
    end
  end
end
