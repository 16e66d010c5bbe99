-- engine_sync.lua - bench/engine.sh, CPU per 50-item Sync: every device provisions, syncs its
-- hierarchy, primes its Inbox (SyncKey 0), then sends d:sync("Inbox", {window = 50}) in a
-- closed loop. Against `easload serve --sync-replay --items 60` each answer holds the same 50
-- Adds with full text bodies (560-700 KB a window) and the same key, so the body is the one
-- bench_curl_floor and wrk replay.
scenario { name = "engine_sync", devices = 100, ramp = "5s", duration = "10m" }

function device(d)
  d:must(d:provision())
  d:must(d:foldersync())
  d:must(d:sync("Inbox"))
  while d:running() do
    d:sync("Inbox", { window = 50 })
  end
end
