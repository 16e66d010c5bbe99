-- tc_concurrency.lua - test_throttle_client concurrency (server: --max-concurrency-per-user 1
-- --retry-after 2, one user for all devices): phone 1 and phone 2 set up one after the other,
-- phone 1 then holds a Ping (the user's one slot); phone 2's Sync gets 503 with Retry-After 2,
-- the engine waits; meanwhile device 3 delivers a mail (admin API), the Ping returns and frees
-- the slot, so the retried Sync passes: one 503, one wait, the command's result is ok.
scenario { name = "tc_concurrency", devices = 3, duration = "30s" }

local ready, holding, syncing = 0, false, false

local function wait_for(d, cond)
  while not cond() and d:running() do d:think(0.05) end
end

function device(d)
  if d.id == 3 then -- the mail system
    wait_for(d, function() return syncing end)
    d:think(0.3)
    d:check("mail delivered", easload.deliver(d.user, { subject = "wake", bytes = 512 }).ok)
    return
  end
  wait_for(d, function() return ready == d.id - 1 end)
  d:check("set up", d:provision().ok and d:foldersync().ok and d:sync("Inbox").ok)
  ready = d.id
  if d.id == 1 then
    wait_for(d, function() return ready == 2 end)
    holding = true
    d:check("ping woken", d:ping({ "Inbox" }, { heartbeat = 60 }).changed == true)
    return
  end
  wait_for(d, function() return holding end)
  d:think(0.3) -- the Ping is held by now
  syncing = true
  local r = d:sync("Inbox")
  d:check("throttled sync passed after Retry-After", r.ok)
  d:check("later sync ok", d:sync("Inbox").ok)
end
