-- tc_syncs.lua - test_throttle_client drop, redirect, resetkey: each phone provisions, fetches
-- its folders and makes 15 Inbox Syncs 50 ms apart (more while the last one failed, at most 30). Checks (all pass; they count): "set up",
-- "sync ok" per ok Sync, "sync failed: CLASS" per failed one, "ok after a failure" when the Sync
-- after a failed one succeeds (fails when it does not).
scenario { name = "tc_syncs", devices = 4, ramp = "0.5s", duration = "30s" }

function device(d)
  local ok = false
  for _ = 1, 5 do -- a fault during set-up costs a round
    ok = d:provision().ok and d:foldersync().ok
    if ok then break end
  end
  d:check("set up", ok)
  local failed = false
  for i = 1, 30 do
    local r = d:sync("Inbox", { window = 50 })
    if failed then d:check("ok after a failure", r.ok) end
    failed = not r.ok
    if r.ok then
      d:check("sync ok", true)
    else
      d:check("sync failed: " .. r.class, true)
      d:log("sync: " .. r.class .. " " .. (r.detail or ""))
    end
    if i >= 15 and not failed then break end
    d:think(0.05)
  end
end
