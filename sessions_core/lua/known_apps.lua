-- The apps of the namespace: our registry, topped up with apps seen in a random sample of
-- {ns}:SESSIONS, so apps that only a Node app writes to show up without a keyspace scan.
-- The one write (SADD of apps the sample saw) is idempotent; the apps page polls this.
-- KEYS: 1 {ns}:SESSIONS, 2 our app registry set
-- ARGV: 1 sample size, 2 and 3 the shortest and longest app name (validation.py's rule)
-- Returns the registry's members (which the caller checks: anyone may write to it).
-- Either key may be another program's key of another type: it is then read as empty and
-- never written.
local seen, apps = {}, {}
local sample = redis.pcall('ZRANDMEMBER', KEYS[1], tonumber(ARGV[1]))
if sample.err then
  sample = {}
end
for _, member in ipairs(sample) do
  local app = string.match(member, '^([%w_%-]+):')
  if app and #app >= tonumber(ARGV[2]) and #app <= tonumber(ARGV[3]) and not seen[app] then
    seen[app] = true
    table.insert(apps, app)
  end
end
if #apps > 0 then
  redis.pcall('SADD', KEYS[2], unpack(apps))
end
local registered = redis.pcall('SMEMBERS', KEYS[2])
if registered.err then
  return apps
end
return registered
