-- The apps of the namespace: our registry, topped up with apps seen in a random sample of
-- {ns}:SESSIONS, so apps that only a Node app writes to show up without a keyspace scan.
-- The one write (SADD of apps the sample saw) is idempotent; the apps page polls this.
-- KEYS: 1 {ns}:SESSIONS, 2 our app registry set
-- ARGV: 1 sample size
-- Returns the registry's members.
local seen, apps = {}, {}
for _, member in ipairs(redis.call('ZRANDMEMBER', KEYS[1], tonumber(ARGV[1]))) do
  local app = string.match(member, '^([%w_%-]+):')
  if app and #app >= 3 and #app <= 20 and not seen[app] then
    seen[app] = true
    table.insert(apps, app)
  end
end
if #apps > 0 then
  redis.call('SADD', KEYS[2], unpack(apps))
end
return redis.call('SMEMBERS', KEYS[2])
