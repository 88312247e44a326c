-- The live sessions among a chunk of one id's sessions, with their last activity: what the
-- user page sorts on, without sending every session's fields to the client.
-- KEYS: session hashes
-- ARGV: 1 window in seconds (0 = any age)
-- Returns {i1, la1, i2, la2, ...}: the 1-based index into KEYS of each live session (active
-- within the window) and its `la`; -1 as `la` for a session another program made unreadable
-- (a non-integer ttl or la, or a key of another type), which cannot be judged and is kept.
local now = server_now()
local within = tonumber(ARGV[1])
local result = {}
for i, key in ipairs(KEYS) do
  local s = redis.pcall('HMGET', key, 'id', 'ttl', 'la')
  if s.err then
    result[#result + 1] = i
    result[#result + 1] = -1
  elseif s[1] then
    local ttl, la = int_field(s[2] or '0'), int_field(s[3] or '0')
    if not ttl or not la then
      result[#result + 1] = i
      result[#result + 1] = -1
    else
      local idle = now - la
      if ttl >= idle and (within == 0 or idle <= within) then
        result[#result + 1] = i
        result[#result + 1] = la
      end
    end
  end
end
return result
