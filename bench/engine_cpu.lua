-- engine_cpu.lua - bench/engine.sh, CPU per request: devices 1..100 send FolderSync in a closed
-- loop (steady state: the hierarchy key of their first FolderSync, "no changes" answers, the
-- same bodies bench_curl_floor and wrk send); every other device provisions, syncs its hierarchy
-- and holds a Ping (heartbeat 3000 s), so CPU per request can be compared from 100 to 10,000
-- connected devices with the same 100 busy ones.
-- --var split=1 (bench/engine.sh FLAT_SPLIT=1, a diagnostic): devices 101..200 end at once
-- without a connection, so the 100 busy devices are alone in the first multi handle (core/http
-- groups devices 200 at a time by index) and the Ping holders (201..N) live in other groups; run
-- it with N + 100 devices for N connected.
scenario { name = "engine_cpu", devices = 100, ramp = "5s", duration = "10m" }

local ACTIVE = 100
local SPLIT = easload.var("split", "0") == "1"

function device(d)
  if SPLIT and d.id > ACTIVE and d.id <= 2 * ACTIVE then
    return
  end
  d:must(d:provision())
  d:must(d:foldersync())
  if d.id <= ACTIVE then
    while d:running() do
      d:foldersync()
    end
  else
    while d:running() do
      d:ping({ "Inbox" }, { heartbeat = 3000 })
    end
  end
end
