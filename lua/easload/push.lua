-- easload/push.lua - helpers for push-latency scenarios: a device that plays the mail system,
-- delivering mail with the Subject "easload-push:<unix_us>" through easload serve's admin API
-- (easload run --admin URL). Devices whose Sync receives such a mail add the time since its
-- delivery to the "push" histogram.
local M = {}

-- Delivers to a random user every `every` seconds (exponential gaps) until the run ends.
-- opts: every (s, default 2), bytes (default 2048).
function M.deliverer(d, opts)
  opts = opts or {}
  local every, bytes = opts.every or 2, opts.bytes or 2048
  while d:running() do
    local user = easload.user(d:rand(easload.users()))
    local r = easload.deliver(user, { subject = easload.push_subject(), bytes = bytes })
    d:check("push delivered", r.ok or r.class == "canceled")
    d:think("exp", every)
  end
end

return M
