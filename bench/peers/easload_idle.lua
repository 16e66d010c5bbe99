-- easload_idle.lua - bench/peers, idle mode: every device sends the same FolderSync (SyncKey 0,
-- 13 bytes), then holds one Ping long-poll on its Inbox (heartbeat 3000 s) over its own
-- keep-alive connection until the run stops. No Provision (server --no-policy).
scenario { name = "peers_idle", devices = 1000, ramp = "5s", duration = "15m" }

function device(d)
  d:must(d:foldersync())
  while d:running() do
    d:ping({ "Inbox" }, { heartbeat = 3000 })
  end
end
