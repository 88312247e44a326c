-- `get`, `get_many` and `set`: read sessions, count the read or write, refresh their activity
-- and expiry, and for `set` merge changes into `d`; one atomic step, so concurrent sets lose
-- nothing (the original reads, merges in the client, then writes). A batch of gets is one
-- call: the keys the sessions share take one variadic ZADD each.
-- KEYS: 1 app _sessions zset, 2 app _users zset, 3 {ns}:SESSIONS zset, 4.. session hashes
-- ARGV: 1 app, 2 counter to bump ('r' for get, 'w' for set), 3 cache channel ('' = do not
--       publish), 4 the most bytes `d` may hold as JSON, 5.. the tokens (one per hash); for
--       a set (one session), the token is followed by triples: raw key, key as JSON, value as
--       JSON ('' = delete the key).
-- Returns one entry per session: false when unknown or timed out, else
-- {id, r, w, ttl, d, la, ip, no_resave, now} as stored before this call, except that for
-- a set `w` and `d` are the new values. Every session is checked before the first write.
--
-- `d` is merged as text: new values arrive already JSON-encoded by the client, and the
-- stored values are copied verbatim. cjson would re-encode numbers with 14 significant
-- digits, so it only ever decodes keys here.
local app, counter, channel = ARGV[1], ARGV[2], ARGV[3]
local is_set = counter == 'w'
local count = is_set and 1 or #KEYS - 3
local now = server_now()

local function skip_string(text, i)
  -- text[i] is '"'; returns the index of the closing quote.
  local j = i + 1
  while true do
    local k = string.find(text, '["\\]', j)
    if not k then
      error('unterminated string')
    end
    if string.sub(text, k, k) == '\\' then
      j = k + 2
    else
      return k
    end
  end
end

-- Parse a flat JSON object into ordered {key, raw key, raw value} entries.
local function parse_flat(text)
  local entries = {}
  local i = string.find(text, '{', 1, true)
  if not i then
    error('not an object')
  end
  i = i + 1
  while true do
    i = string.find(text, '[^%s,]', i)
    if not i then
      error('unterminated object')
    end
    local c = string.sub(text, i, i)
    if c == '}' then
      return entries
    end
    if c ~= '"' then
      error('bad key')
    end
    local key_end = skip_string(text, i)
    local raw_key = string.sub(text, i, key_end)
    i = string.find(text, '%S', string.find(text, ':', key_end + 1, true) + 1)
    local value_end
    c = string.sub(text, i, i)
    if c == '"' then
      value_end = skip_string(text, i)
    elseif c == '{' or c == '[' then
      error('nested value')
    else
      value_end = string.find(text, '[%s,}]', i) - 1
    end
    table.insert(entries, {cjson.decode(raw_key), raw_key, string.sub(text, i, value_end)})
    i = value_end + 1
  end
end

-- Pass 1: read and check every session.
local sessions, live = {}, {}
for i = 1, count do
  local s = redis.call('HMGET', KEYS[3 + i], 'id', 'r', 'w', 'ttl', 'd', 'la', 'ip', 'no_resave')
  sessions[i] = false
  if s[1] then
    -- Counters and times another program wrote as non-integers: refused before any write.
    -- (One field at a time, unrolled: a loop over a table of field numbers cost 0.5 µs.)
    local r, w, ttl, la = s[2], s[3], s[4], s[6]
    r = r and int_field(r) or (not r and 0)
    w = w and int_field(w) or (not w and 0)
    ttl = ttl and int_field(ttl) or (not ttl and 0)
    la = la and int_field(la) or (not la and 0)
    if not (r and w and ttl and la) then
      return redis.error_reply('CORRUPT session fields r, w, ttl and la must hold integers')
    end
    -- Sent back as integers: the client need not parse them again.
    s[2], s[3], s[4], s[6] = r, w, ttl, la
    local idle = now - la
    if ttl >= idle then
      sessions[i] = s
      live[#live + 1] = {i, ttl, idle}
    end
  end
end

local new_d = nil
if is_set and sessions[1] then
  local s = sessions[1]
  local changes, order = {}, {}
  local max_bytes = tonumber(ARGV[4])
  if s[5] and #s[5] > max_bytes then  -- parsing is O(size): refuse before, not after
    return redis.error_reply('TOOBIG d')
  end
  for i = 6, #ARGV, 3 do
    changes[ARGV[i]] = {ARGV[i + 1], ARGV[i + 2]}
    table.insert(order, ARGV[i])
  end
  local parts = {}
  if s[5] and s[5] ~= '' then  -- like the original's `if (resp.d)`: '' holds no keys
    local ok, entries = pcall(parse_flat, s[5])
    if not ok then
      return redis.error_reply('CORRUPT session d is not a flat JSON object')
    end
    for _, e in ipairs(entries) do
      local change = changes[e[1]]
      if change then
        if change[2] ~= '' then
          table.insert(parts, e[2] .. ':' .. change[2])
        end
        changes[e[1]] = nil
      else
        table.insert(parts, e[2] .. ':' .. e[3])
      end
    end
  end
  for _, key in ipairs(order) do
    local change = changes[key]
    if change and change[2] ~= '' then
      table.insert(parts, change[1] .. ':' .. change[2])
    end
  end
  if #parts > 0 then
    new_d = '{' .. table.concat(parts, ',') .. '}'
    if #new_d > max_bytes then
      return redis.error_reply('TOOBIG d')
    end
  end
end


-- Pass 2: write.
local members, users, globals = {}, {}, {}
for _, entry in ipairs(live) do
  local i, ttl, idle = entry[1], entry[2], entry[3]
  local s, hash, token = sessions[i], KEYS[3 + i], ARGV[4 + i]
  local id = s[1]
  local bumped = redis.call('HINCRBY', hash, counter, 1)
  local expires
  if s[8] == '1' then
    -- no_resave: the stored ttl counts down; `la` moves with it so no second is lost.
    local left = ttl - idle
    redis.call('HSET', hash, 'ttl', left, 'la', now)
    expires = now + left
  else
    if idle > 1 then
      redis.call('HSET', hash, 'la', now)
    end
    expires = now + ttl
  end
  -- Active within this second and not counting down: every index already holds these scores.
  if idle > 0 or s[8] == '1' then
    members[#members + 1] = now
    members[#members + 1] = token .. ':' .. id
    users[#users + 1] = now
    users[#users + 1] = id
    globals[#globals + 1] = expires
    globals[#globals + 1] = app .. ':' .. token .. ':' .. id
  end
  if not is_set then
    -- The count before this read: a token twice in one batch reads 1 then 2, as two gets.
    s[2] = bumped - 1
  else
    s[3] = bumped
    if new_d then
      redis.call('HSET', hash, 'd', new_d)
      s[5] = new_d
    else
      redis.call('HDEL', hash, 'd')
      s[5] = false
    end
  end
  if channel ~= '' then
    redis.call('PUBLISH', channel, app .. ':' .. token)
  end
  s[9] = now
end
if #members > 0 then
  redis.pcall('ZADD', KEYS[1], unpack(members))
  redis.pcall('ZADD', KEYS[2], unpack(users))
  redis.pcall('ZADD', KEYS[3], unpack(globals))
end
return sessions
