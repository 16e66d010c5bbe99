-- sendmail.lua - phones sending mail of a few sizes to other users, and replying from the Inbox.
scenario {
  name = "sendmail", devices = 50, ramp = "5s", duration = "1m",
  profile = "android-14.1",
  thresholds = { ["sendmail.p99"] = "< 2000ms" },
}

local sizes = { 512, 2048, 8192, 65536 }

function device(d)
  d:must(d:provision())
  d:must(d:foldersync())
  while d:running() do
    local to = easload.user(d:rand(easload.users())) .. "@example.com"
    local r = d:sendmail({ to = to, subject = "load test " .. d.id, bytes = sizes[d:rand(#sizes)] })
    d:check("sendmail", r.ok)
    d:think("exp", 4)
  end
end
