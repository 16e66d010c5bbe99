-- api.lua - every call of the device API once, each result checked with d:check so the test
-- reads the outcome from results.json (checks.<name>.failed == 0). Used by test_run.c (api).
scenario { name = "api", devices = 4, duration = "20s" }

function device(d)
  local seen = {}
  d:on("wipe", function(dev, r) seen.wipe = r.class end)
  d:check("provision", d:provision().ok)
  local fs = d:foldersync()
  d:check("foldersync", fs.ok and fs.count > 0)
  d:check("folders", #d:folders() > 0)
  local r = d:sync("Inbox", { window = 5 })
  d:check("sync first", r.ok)
  r = d:sync("Inbox", { window = 5, body = "text", truncate = 256 })
  d:check("sync items", r.ok and r.added > 0 and type(r.more) == "boolean")
  d:check("estimate", d:estimate("Inbox").ok)
  d:check("item", type(d:item("Inbox")) == "string")
  d:check("fetch", d:fetch("Inbox", { body = "text" }).ok)
  d:check("search", d:search("a", { store = "Mailbox", range = 5 }).ok)
  d:check("sendmail", d:sendmail({ subject = "api test", bytes = 300 }).ok)
  d:check("move", d:move(nil, "Deleted Items", { from = "Inbox" }).ok)
  d:check("settings", d:settings().ok)
  local raw = d:raw("FolderSync", { "FolderHierarchy:FolderSync", { "FolderHierarchy:SyncKey", "0" } })
  d:check("raw tree", raw.ok and raw.cmd == "foldersync")
  raw = d:raw("Settings", [[<Settings:Settings><Settings:Oof><Settings:Get><Settings:BodyType>Text</Settings:BodyType></Settings:Get></Settings:Oof></Settings:Settings>]])
  d:check("raw xml", raw.ok)
  -- a Ping woken by mail delivered to the device's own user through the admin API
  if d.id == 1 then
    -- wakes the Pings of devices 2..4 (users 2..4); a mail that lands before a Ping is posted
    -- makes that Ping answer at once, so the order does not matter
    d:think(3)
    for u = 2, 4 do
      local a = easload.deliver(easload.user(u), { subject = easload.push_subject(), bytes = 100 })
      d:check("deliver", a.ok)
    end
  else
    repeat local s = d:sync("Inbox", { window = 100 }) until not (s.ok and s.more)
    local p = d:ping({ "Inbox" }, { heartbeat = 60 })
    d:check("ping", p.ok and type(p.changed) == "boolean")
  end
  d:think("const", 0.01)
  d:think("uniform", 0.01, 0.02)
  d:think("exp", 0.01)
  d:sleep("10ms")
  local x, y = d:rand(10), d:rand(5, 6)
  d:check("rand", x >= 1 and x <= 10 and y >= 5 and y <= 6 and d:rand() < 1)
  d:check("fields", d.id >= 1 and d.user:match("^user%d+$") ~= nil and #d.device_id > 0
                    and d.profile == "android-14.1")
  d:check("running", d:running() == true)
  d:check("must", d:must({ ok = true }).ok)
  local ok, err = pcall(d.must, d, { ok = false, cmd = "sync", class = "eas_status", status = 3 })
  d:check("must raises", not ok and tostring(err):find("must: sync failed") ~= nil)
  d:log("api scenario done")
end
