-- sync_tight.lua - scenarios/sync.lua without think times, to measure what a server can take:
-- every device Syncs its Inbox (text bodies, 512 bytes) again as soon as the answer is in. For
-- bench/RESULTS.md ("SOGo 5.8 as measured by easload"), run against SOGo and easload serve.
scenario {
  name = "sync_tight", devices = 8, ramp = "2s", duration = "30s",
  profile = "android-14.1",
  thresholds = { ["errors.rate"] = "< 1%" },
}

function device(d)
  d:must(d:provision())
  d:must(d:foldersync())
  repeat local r = d:sync("Inbox", { window = 50 }) until not (r.ok and r.more)
  while d:running() do
    d:check("sync ok", d:sync("Inbox", { window = 50, body = "text", truncate = 512 }).ok)
  end
end
