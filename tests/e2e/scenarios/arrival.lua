-- arrival.lua - an open model for the coordinated-omission test: 40 arrivals a second on a
-- pool of 4 devices; each arrival sends one FolderSync (a device's first arrival provisions it
-- first). When the server stalls, the pool runs dry, arrivals wait and start late, and their
-- latency counts from the intended start.
scenario { name = "arrival", devices = 4, rate = 40, duration = "6s" }

function device(d)
  if #d:folders() == 0 then
    d:must(d:provision())
  end
  d:foldersync()
end
