-- forever.lua - devices that sync and think until the run stops (SIGINT test, users test).
scenario { name = "forever", devices = 12, duration = "10m" }

function device(d)
  d:must(d:provision())
  d:must(d:foldersync())
  while d:running() do
    d:sync("Inbox", { window = 10 })
    d:think("const", 0.2)
  end
end
