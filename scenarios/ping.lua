-- ping.lua - direct push: every device holds a Ping long-poll on its Inbox; one device in ten
-- also plays the mail system and delivers mail through easload serve's admin API (--admin URL)
-- with the Subject "easload-push:<unix_us>". When a Ping wakes, the device Syncs the folder and
-- the engine records, for each such mail, the time from delivery to the Sync that holds it:
-- the "push" histogram in results.json (push latency).
scenario {
  name = "ping", devices = 100, ramp = "10s", duration = "1m",
  profile = "ios-16.1",
  thresholds = { ["ping.p99"] = "< 600000ms" },
}

local push = require "easload.push"

function device(d)
  d:must(d:provision())
  d:must(d:foldersync())
  repeat local r = d:sync("Inbox", { window = 100 }) until not (r.ok and r.more)
  if d.id % 10 == 0 then
    return push.deliverer(d, { every = 2, bytes = 2048 })
  end
  while d:running() do
    local r = d:ping({ "Inbox" }, { heartbeat = 300 })
    if r.changed then
      for _, f in ipairs(r.folders) do
        repeat local s = d:sync(f) until not (s.ok and s.more)
      end
    elseif not r.ok and r.class ~= "canceled" then
      d:think("exp", 2)
    end
  end
end
