-- wipe.lua - remote wipe of lost phones. Every phone provisions, fetches its folders and syncs
-- its Inbox in a loop. Every fourth phone (d.id % 4 == 0) is reported lost after three Syncs: the
-- helpdesk asks the server to wipe it (easload.wipe through easload serve's admin API, so the run
-- needs --admin URL; the call is made on the lost phone's own connection). The phone's next
-- command gets status 140 (12.1: 449), the engine reprovisions, the Provision carries
-- <RemoteWipe/>, the phone acknowledges it, the command ends with class "wipe" and the phone
-- stops (d:running() false, no more requests), as an erased phone does.
--
--   easload serve --users 20 --admin 127.0.0.1:9090
--   easload run scenarios/wipe.lua --target http://127.0.0.1:8080 --admin http://127.0.0.1:9090
--
-- What it reports (results.json): counter devices.wiped (one per lost phone), checks "wipe
-- requested", "lost phone wiped and stopped" (the d:on("wipe") handler ran, d.wiped is true and
-- the phone issued nothing after), "other phones not wiped", "sync ok" (the others keep syncing);
-- the server's GET /stats throttle.wipe counts the Provision answers that carried the wipe.
-- The Sync that met status 140 is recorded under outcome "provision" (an error in totals: the
-- device could not sync), the acknowledging Provision under "wipe" (not an error).
scenario {
  name = "wipe", devices = 20, ramp = "2s", duration = "10s", user_count = 20,
  profile = "android-14.1",
  thresholds = { ["checks.failed"] = "== 0" },
}

function device(d)
  d:must(d:provision())
  d:must(d:foldersync())
  repeat local r = d:sync("Inbox", { window = 100 }) until not (r.ok and r.more)
  local lost = d.id % 4 == 0
  local wiped_event, requested, syncs, after = false, false, 0, 0
  d:on("wipe", function() wiped_event = true end)
  while d:running() do
    if lost and not requested and syncs >= 3 then
      d:check("wipe requested", easload.wipe(d.user, d.device_id).ok)
      requested = true
    end
    local r = d:sync("Inbox", { window = 50 })
    syncs = syncs + 1
    if wiped_event then after = after + 1 end
    if r.class == "wipe" then break end
    d:check("sync ok", r.ok or r.class == "canceled")
    d:think("uniform", 0.2, 0.6)
  end
  if lost then
    -- after the wipe the loop ended at once: no command ran after the one that met the wipe
    d:check("lost phone wiped and stopped", wiped_event and d.wiped and not d:running()
            and after == 1)
  else
    d:check("other phones not wiped", not d.wiped)
  end
end
