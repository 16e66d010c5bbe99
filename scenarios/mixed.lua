-- mixed.lua - a realistic day of a phone, compressed: set up (Provision, FolderSync, first
-- Syncs of Inbox, Calendar and Contacts), then a loop of what people do with mail on a phone,
-- each step drawn with weights and separated by think times: check the Inbox, read a message,
-- search, send or reply, file a message, wait for push with a Ping. Profiles in market shares.
scenario {
  name = "mixed", devices = 1000, ramp = "20s", duration = "45s",
  profiles = { ["android-14.1"] = 55, ["ios-16.1"] = 35, ["outlook-16.1"] = 8, ["wm-12.1"] = 2 },
  thresholds = { ["sync.p99"] = "< 1000ms", ["errors.rate"] = "< 1%" },
}

local mix = require "easload.mix"

local function initial_sync(d, folder)
  repeat local r = d:sync(folder, { window = 100 }) until not (r.ok and r.more)
end

function device(d)
  d:must(d:provision())
  d:must(d:foldersync())
  initial_sync(d, "Inbox")
  initial_sync(d, "Calendar")
  initial_sync(d, "Contacts")
  d:settings()
  local function check_inbox()
    d:sync("Inbox", { window = 25, body = "text", truncate = 2048 })
  end
  mix.run(d, {
    { 40, check_inbox },
    { 15, function()  -- read a message (when the Inbox holds one we know of)
        if d:item("Inbox") then d:fetch("Inbox", { body = "text" }) else check_inbox() end
      end },
    { 10, function() d:estimate("Inbox") end },
    { 8,  function() d:search("report", { store = "Mailbox", range = 10 }) end },
    { 7,  function() d:sendmail({ bytes = 4096 }) end },
    { 5,  function()  -- file a message
        if d:item("Inbox") then d:move(nil, "Deleted Items", { from = "Inbox" }) else check_inbox() end
      end },
    { 15, function()
        local r = d:ping({ "Inbox", "Calendar" }, { heartbeat = 60 })
        if r.changed then for _, f in ipairs(r.folders) do d:sync(f) end end
      end },
  }, { think = { "exp", 3 } })
end
