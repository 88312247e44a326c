-- A bounded step of the IP filter: the sessions of one rank range of an app's window, newest
-- first, whose ip equals (or starts with) ARGV[4].
-- KEYS: 1 app _sessions zset
-- ARGV: 1 window in seconds, 2 first rank, 3 how many members to look at, 4 the ip or
--       prefix, 5 '1' for a prefix match, 6 prefix of session hashes ('{ns}:{app}:')
-- Returns {next rank (-1 when the window is exhausted), member, member, ...}.
local since = server_now() - tonumber(ARGV[1])
local first, count = tonumber(ARGV[2]), tonumber(ARGV[3])
local wanted, prefix = ARGV[4], ARGV[5] == '1'
-- The window is exactly the top `total` ranks, so a step is a rank range: O(log N + count)
-- (a LIMIT offset would step over every member before it).
local total = redis.call('ZCOUNT', KEYS[1], since, '+inf')
local stop = math.min(first + count, total) - 1
local members = first <= stop and redis.call('ZREVRANGE', KEYS[1], first, stop) or {}
local result = {stop >= total - 1 and -1 or stop + 1}
for _, member in ipairs(members) do
  local token = split_token_member(member)
  if token then
    local ip = redis.pcall('HGET', ARGV[6] .. token, 'ip')
    if type(ip) == 'string'
       and (ip == wanted or (prefix and string.sub(ip, 1, #wanted) == wanted)) then
      result[#result + 1] = member
    end
  end
end
return result
