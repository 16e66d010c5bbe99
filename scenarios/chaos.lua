-- chaos.lua - phones against a server that misbehaves on purpose. Start easload serve with
-- faults, for example
--   easload serve --users 20 --fault 'all:http503@2%' --fault 'sync:drop@2%' \
--                 --fault 'sync:resetkey@2%'
--   easload run scenarios/chaos.lua --target http://127.0.0.1:8080
-- Each phone provisions, fetches its folders, syncs Inbox and Calendar, then loops: a Sync of
-- the Inbox (now and then a GetItemEstimate or a FolderSync) with short think times. What the
-- engine does with each fault, before the script sees the result:
--   http503 (no Retry-After)  exponential back-off with jitter, one retry; class "throttled"
--                             if that fails too (counter throttle.waits per wait)
--   drop (no answer)          class "network"; the next command opens a new connection
--                             (counter connections.reopened) and the phone syncs on
--   resetkey (Sync status 3)  the key goes back to 0 and the Sync is sent again once (counter
--                             resyncs, eas.sync.status.3); the resync's answer is the result
-- Every round trip is recorded under its command and outcome, so the faults show up as
-- outcomes throttled / network / eas_status beside ok.
-- Thresholds that hold at rates like the ones above: errors below 10% of round trips, and the
-- checks: "recovered" (after a failed command the phone's next commands succeed within five
-- tries) and "kept syncing" (each phone's last Inbox Sync of the run, or the one before it,
-- succeeded and it made at least 5 good Syncs). With faults off the scenario passes too.
scenario {
  name = "chaos", devices = 20, ramp = "2s", duration = "15s", user_count = 20,
  profile = "android-14.1",
  thresholds = { ["errors.rate"] = "< 10%", ["checks.failed"] = "== 0" },
}

local function initial(d, folder)
  for _ = 1, 20 do -- a fault on the way costs one more round
    local r = d:sync(folder, { window = 100 })
    if r.ok and not r.more then return true end
    if not d:running() then return false end
  end
  return false
end

local function setup(d)
  for _ = 1, 10 do
    if d:provision().ok and d:foldersync().ok then return true end
    if not d:running() then return false end
    d:think("uniform", 0.1, 0.3)
  end
  return false
end

function device(d)
  d:check("set up", setup(d) or not d:running())
  initial(d, "Inbox")
  initial(d, "Calendar")
  local streak, good, last_ok, prev_ok = 0, 0, true, true
  while d:running() do
    local x = d:rand()
    local r
    if x < 0.1 then
      r = d:estimate("Inbox")
    elseif x < 0.15 then
      r = d:foldersync()
    else
      r = d:sync("Inbox", { window = 50, body = "text", truncate = 512 })
      if r.class ~= "canceled" then
        prev_ok, last_ok = last_ok, r.ok
        if r.ok then good = good + 1 end
      end
    end
    if r.ok then
      if streak > 0 then d:check("recovered", streak <= 5) end
      streak = 0
    elseif r.class ~= "canceled" then
      streak = streak + 1
      if streak > 5 then d:log("no recovery: " .. r.cmd .. " " .. r.class .. " " .. (r.detail or "")) end
    end
    d:think("uniform", 0.05, 0.25)
  end
  d:check("kept syncing", (last_ok or prev_ok) and good >= 5)
end
