-- easload_busy.lua - bench/peers, busy mode: every device POSTs FolderSync with SyncKey 0 (the
-- fixed 13-byte body 03 01 6a 00 00 07 56 52 03 30 00 01 01) in a closed loop over its own
-- keep-alive connection, with its own Basic credentials (user<id>/pass<id>). No Provision: the
-- server runs with --no-policy, as for every tool of bench/peers/run.sh.
scenario { name = "peers_busy", devices = 100, ramp = "1s", duration = "15m", timeout = "60s" }

local FS = { "FolderHierarchy:FolderSync", { "FolderHierarchy:SyncKey", "0" } }

function device(d)
  while d:running() do
    d:raw("FolderSync", FS)
  end
end
