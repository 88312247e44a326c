-- On a cluster: register an app in the registry hash ({ns}:_apps, app -> the server time it
-- was last registered). create.lua cannot do it there (another slot); see drop_apps.lua.
-- KEYS: 1 the registry hash
-- ARGV: 1 app
-- A registry key of another type (another program's) is left alone.
redis.pcall('HSET', KEYS[1], ARGV[1], server_now())
return 1
