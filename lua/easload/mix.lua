-- easload/mix.lua - a weighted mix of actions with think times between them, the body of most
-- "day of a phone" scenarios: mix.run(d, {{weight, fn}, ...}, {think = {"exp", 3}}).
local M = {}

-- Picks an action by weight with the device's deterministic random numbers.
function M.pick(d, actions)
  local total = 0
  for _, a in ipairs(actions) do total = total + a[1] end
  local x = d:rand() * total
  for _, a in ipairs(actions) do
    x = x - a[1]
    if x < 0 then return a[2] end
  end
  return actions[#actions][2]
end

-- Runs picked actions until the run ends; opts.think = {dist, a, b} between actions.
function M.run(d, actions, opts)
  local think = (opts and opts.think) or { "exp", 3 }
  while d:running() do
    M.pick(d, actions)()
    d:think(think[1], think[2], think[3])
  end
end

return M
