-- sync.lua - the steady state of a phone: provision, fetch the folder hierarchy, an initial
-- Sync of the Inbox (and Calendar), then a Sync every little while with think times.
scenario {
  name = "sync", devices = 100, ramp = "10s", duration = "1m",
  profile = "android-14.1",
  thresholds = { ["sync.p99"] = "< 2000ms", ["errors.rate"] = "< 1%" },
}

function device(d)
  d:must(d:provision())
  d:must(d:foldersync())
  -- the first Sync of a folder only gets a key; page through what is there
  repeat local r = d:sync("Inbox", { window = 50 }) until not (r.ok and r.more)
  d:sync("Calendar", { window = 50 })
  while d:running() do
    local r = d:sync("Inbox", { window = 50, body = "text", truncate = 512 })
    d:check("sync ok", r.ok)
    d:think("exp", 5)
  end
end
