-- engine_cpu_split.lua - bench/engine.sh flat diagnostic (FLAT_SPLIT=1): as engine_cpu.lua, but
-- devices 101..200 end at once without a connection, so the 100 busy devices (1..100) are alone
-- in the first multi handle (core/http groups devices 200 at a time by index) and the Ping
-- holders (201..N) live in other groups. Run with N + 100 devices for N connected.
scenario { name = "engine_cpu_split", devices = 100, ramp = "5s", duration = "10m" }

local ACTIVE = 100

function device(d)
  if d.id > ACTIVE and d.id <= 2 * ACTIVE then
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
