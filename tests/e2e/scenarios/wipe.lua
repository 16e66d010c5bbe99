-- wipe.lua - device 2 asks the server to wipe device 1; device 1's next command reprovisions,
-- acknowledges the wipe and the device stops (devices.wiped == 1).
scenario { name = "wipe", devices = 2, duration = "20s" }

function device(d)
  d:must(d:provision())
  d:must(d:foldersync())
  if d.id == 2 then
    d:think(0.3)
    local other = easload.user(1)
    d:check("wipe requested", easload.wipe(other, "EL0000000000000000").ok)
    return
  end
  local wiped = false
  d:on("wipe", function() wiped = true end)
  d:think(1)
  for _ = 1, 5 do
    local r = d:sync("Inbox")
    if r.class == "wipe" then break end
    d:think(0.2)
  end
  d:check("wiped", wiped and not d:running())
end
