-- syntax_error.lua - does not load: the run stops before any device starts (exit 2).
scenario { name = "syntax_error" }
function device(d)
  d:provision(
end
