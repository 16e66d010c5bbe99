-- fixed.lua - the same requests from every device, whatever the timing: Provision (two round
-- trips), FolderSync, four Syncs of the Inbox (window 5; FolderSync again instead when the
-- hierarchy is unknown, e.g. after a TLS failure), Settings. The TLS and shard tests compare
-- counters of runs of it exactly. One check per device names its identity (number, device id,
-- user, profile, first d:rand()), so merged shards must have made the same devices.
scenario {
  name = "fixed", devices = 12, duration = "60s",
  profiles = { ["android-14.1"] = 50, ["ios-16.1"] = 50 },
}

local SYNCS = 4

function device(d)
  d:check(string.format("device %d %s %s %s %d", d.id, d.device_id, d.user, d.profile,
                        d:rand(1000000)), true)
  d:check("provisioned", d:provision().ok)
  local f = d:foldersync()
  for _ = 1, SYNCS do
    if f.ok then
      d:sync("Inbox", { window = 5 })
    else
      d:foldersync()
    end
  end
  d:settings()
end
