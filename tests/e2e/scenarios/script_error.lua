-- script_error.lua - device 3 calls a function that does not exist on line 9; the others run on.
scenario { name = "script_error", devices = 6, duration = "20s" }

function device(d)
  d:provision()
  d:foldersync()
  d:check("before", true)
  if d.id == 3 then
    undefined_function_here(d)
  end
  d:sync("Inbox")
  d:check("after", true)
end
