-- Shared prelude of every script that ends sessions (kill, killsoid, killall, wipe).
-- Removes one session and all of its index entries, exactly as redis-sessions 4.0.0's
-- `_kill` does, and publishes the cache message `{app}:{token}` so every in-process
-- cache (ours and Node's) drops it. Returns 1 when the session hash existed, else 0.
local function remove_session(hash, app_sessions, app_users, all_sessions, user_tokens,
                              token, id, app, channel)
  local existed = redis.call('DEL', hash)
  redis.call('ZREM', app_sessions, token .. ':' .. id)
  redis.call('SREM', user_tokens, token)
  redis.call('ZREM', all_sessions, app .. ':' .. token .. ':' .. id)
  if redis.call('EXISTS', user_tokens) == 0 then
    redis.call('ZREM', app_users, id)
  end
  redis.call('PUBLISH', channel, app .. ':' .. token)
  return existed
end

-- Split `{token}:{id}`: tokens never hold ':', ids may.
local function split_token_member(member)
  local sep = string.find(member, ':', 1, true)
  return string.sub(member, 1, sep - 1), string.sub(member, sep + 1)
end

local function server_now()
  return tonumber(redis.call('TIME')[1])
end
