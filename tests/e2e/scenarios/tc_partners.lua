-- tc_partners.lua - test_throttle_client max_devices: every device of the run is a phone of the
-- same user (--user-count 1); each provisions once (started 0.2 s apart, so in device order);
-- the ones the server refuses (status 177) stop, the others sync twice.
scenario { name = "tc_partners", devices = 12, ramp = "2.4s", duration = "20s" }

function device(d)
  local p = d:provision()
  if p.status == 177 then
    d:check("refused (177)", p.class == "eas_status")
    return
  end
  d:check("partnered", p.ok)
  d:check("partnered phone syncs", d:foldersync().ok and d:sync("Inbox").ok and d:sync("Inbox").ok)
end
