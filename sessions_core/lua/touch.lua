-- `get` and `set`: read a session, count the read or write, refresh its activity and
-- expiry, and for `set` merge changes into `d`; one atomic step, so concurrent sets lose
-- nothing (the original reads, merges in the client, then writes).
-- KEYS: 1 session hash, 2 app _sessions zset, 3 app _users zset, 4 {ns}:SESSIONS zset
-- ARGV: 1 token, 2 app, 3 counter to bump ('r' for get, 'w' for set), 4 cache channel
--       ('' = do not publish), then for set: 5 the most bytes `d` may hold as JSON, and
--       triples: raw key, key as JSON, value as JSON ('' = delete the key).
-- Returns false when the session is unknown or timed out, else
-- {id, r, w, ttl, d, la, ip, no_resave, now} as stored before this call, except that for
-- a set `w` and `d` are the new values.
--
-- `d` is merged as text: new values arrive already JSON-encoded by the client, and the
-- stored values are copied verbatim. cjson would re-encode numbers with 14 significant
-- digits, so it only ever decodes keys here.
local s = redis.call('HMGET', KEYS[1], 'id', 'r', 'w', 'ttl', 'd', 'la', 'ip', 'no_resave')
if not s[1] then
  return false
end
-- Counters and times another program wrote as non-integers: refused before any write.
local numbers = {}
for i, field in ipairs({2, 3, 4, 6}) do
  numbers[i] = s[field] and int_field(s[field]) or (not s[field] and 0)
  if not numbers[i] then
    return redis.error_reply('CORRUPT session fields r, w, ttl and la must hold integers')
  end
end
local now = server_now()
local ttl = numbers[3]
local idle = now - numbers[4]
if ttl < idle then
  return false
end

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

local new_d = nil
if ARGV[3] == 'w' then
  local changes, order = {}, {}
  local max_bytes = tonumber(ARGV[5])
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

local id = s[1]
local count = redis.call('HINCRBY', KEYS[1], ARGV[3], 1)
local expires
if s[8] == '1' then
  -- no_resave: the stored ttl counts down; `la` moves with it so no second is lost.
  local left = ttl - idle
  redis.call('HSET', KEYS[1], 'ttl', left, 'la', now)
  expires = now + left
else
  if idle > 1 then
    redis.call('HSET', KEYS[1], 'la', now)
  end
  expires = now + ttl
end
redis.pcall('ZADD', KEYS[2], now, ARGV[1] .. ':' .. id)
redis.pcall('ZADD', KEYS[3], now, id)
redis.pcall('ZADD', KEYS[4], expires, ARGV[2] .. ':' .. ARGV[1] .. ':' .. id)
if ARGV[3] == 'w' then
  s[3] = count
  if new_d then
    redis.call('HSET', KEYS[1], 'd', new_d)
    s[5] = new_d
  else
    redis.call('HDEL', KEYS[1], 'd')
    s[5] = false
  end
end
if ARGV[4] ~= '' then
  redis.call('PUBLISH', ARGV[4], ARGV[2] .. ':' .. ARGV[1])
end
s[9] = now
return s
