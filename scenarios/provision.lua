-- provision.lua - first contact of a fleet of phones: OPTIONS-less two-phase Provision, the
-- folder hierarchy and Settings (DeviceInformation), then the device is done. A policy change
-- on the server (easload.policy()) makes later commands reprovision automatically.
scenario {
  name = "provision", devices = 200, ramp = "20s", duration = "1m",
  profiles = { ["android-14.1"] = 50, ["ios-16.1"] = 40, ["outlook-16.1"] = 10 },
  thresholds = { ["provision.p99"] = "< 2000ms", ["errors.count"] = "== 0" },
}

function device(d)
  local r = d:provision()
  d:check("provisioned", r.ok)
  if not r.ok then return end
  d:check("folder hierarchy", d:foldersync().ok)
  d:check("settings", d:settings().ok)
end
