-- engine_idle.lua - bench/engine.sh, memory: each device provisions, syncs its hierarchy and
-- Inbox once, then holds a Ping long-poll (heartbeat 3000 s) until the run stops: an idle
-- phone. `idle_none` in engine.sh parks the same devices in d:think instead (no connection).
scenario { name = "engine_idle", devices = 1000, ramp = "10s", duration = "10m" }

function device(d)
  d:must(d:provision())
  d:must(d:foldersync())
  repeat local r = d:sync("Inbox", { window = 100 }) until not (r.ok and r.more)
  while d:running() do
    d:ping({ "Inbox" }, { heartbeat = 3000 })
  end
end
