-- ping_sogo.lua - scenarios/ping.lua for SOGo: the same direct-push loop, but every device holds
-- a Ping, because mail reaches SOGo through Dovecot, not through easload serve's admin API
-- (easload.deliver). tests/peers/sogo/run.sh delivers mail with the Subject
-- "easload-push:<unix_us>" into the devices' INBOXes with `doveadm save` while this runs; a Ping
-- it wakes is followed by a Sync that must fetch the mail, and the engine records the time from
-- delivery to that Sync in the "push" histogram. The devices Sync only after a woken Ping, so
-- every pushed mail counted there came through a woken Ping and the Sync after it.
-- The devices ask for a 300 s heartbeat like ping.lua: SOGo allows at most
-- SOGoMaximumPingInterval (10 s in setup.sh) and answers status 5; easload keeps the bound and
-- Pings inside it from then on (docs/servers.md).
scenario {
  name = "ping_sogo", devices = 10, ramp = "5s", duration = "1m",
  profile = "ios-16.1",
  thresholds = { ["ping.p99"] = "< 60000ms" },
}

function device(d)
  d:must(d:provision())
  d:must(d:foldersync())
  repeat local r = d:sync("Inbox", { window = 100 }) until not (r.ok and r.more)
  while d:running() do
    local r = d:ping({ "Inbox" }, { heartbeat = 300 })
    if r.changed then
      -- SOGo wakes the first Ping after a Sync that brought mail at once, and the Sync that
      -- follows is empty (docs/servers.md): a phone syncs again, so does this device
      for _, f in ipairs(r.folders) do
        repeat local s = d:sync(f) until not (s.ok and s.more)
      end
    elseif not r.ok and r.class ~= "canceled" then
      d:think("exp", 2)
    end
  end
end
