-- refused.lua - devices that loop on FolderSync without thinking while nothing listens on the
-- target: every request fails at once (connection refused). The run must still answer Ctrl-C
-- (the loop polls between libcurl's zero timeouts).
scenario { name = "refused", devices = 4, duration = "60s" }

function device(d)
  while d:running() do
    d:foldersync()
  end
end
