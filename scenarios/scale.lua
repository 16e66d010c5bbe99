-- scale.lua - many phones on one machine (issue 9 item 1, run by bench/scale.sh): each device
-- holds direct push the way a phone does, with a periodic Sync, so memory and CPU per device can
-- be measured at 20,000 devices.
--
-- Each device:
--   1. Provision (two phases; a failure is retried up to 5 times, 2-10 s apart), FolderSync, and
--      the whole Inbox (Sync until no MoreAvailable);
--   2. until the end of the run: a Ping on the Inbox whose heartbeat lasts until the device's
--      next periodic Sync (every SYNC_MIN..SYNC_MAX seconds, drawn per device and per round:
--      the heartbeat is 1-3 minutes), then that Sync of the Inbox. A Ping that reports changes
--      is followed at once by a Sync of the changed folders, then the device pings again for
--      what is left of its period (or Syncs now when less than 60 s, the server's shortest
--      heartbeat, is left);
--   3. after one periodic Sync in DELIVER_EVERY, the device delivers a mail through
--      `easload serve`'s admin API (--admin URL; skipped without it) to the user of another
--      device of its own block of 100, with a push subject: those Pings wake, and the `push`
--      histogram holds delivery -> Sync latency. Blocks of 100 keep each mail on the server of
--      its shard when bench/scale.sh runs one shard per server (devices per shard a multiple
--      of 100).
-- Checks used as counters: "provisioned" (failed = gave up after 5 tries), "inbox synced",
-- "ping" (passed = a Ping answered ok, woken or expired; failed = any other answer but the
-- cancel at the end), "mail delivered".
-- Users: device g is user g (--user-count = --devices; `easload serve --users` at least that).
scenario {
  name = "scale", devices = 20000, ramp = "60s", duration = "5m",
  profile = "android-14.1", timeout = "60s",
}

local SYNC_MIN, SYNC_MAX = 60, 180 -- periodic Sync, seconds
local DELIVER_EVERY = 10           -- one periodic Sync in 10 also delivers a mail
local HEARTBEAT_MIN = 60           -- easload serve accepts 60..3540

local function sync_all(d, folder)
  local r
  repeat r = d:sync(folder, { window = 100 }) until not (r.ok and r.more)
  return r
end

local function now_s() return easload.now_us() / 1e6 end

-- the user of another device of d's block of 100 (never d itself)
local function neighbour(d)
  local base = (d.id - 1) // 100 * 100
  local off = (d.id - 1 - base + d:rand(1, 99)) % 100
  return easload.user(base + off + 1)
end

function device(d)
  local r
  for try = 1, 5 do
    r = d:provision()
    if r.ok or not d:running() then break end
    d:think("uniform", 2, 10)
  end
  d:check("provisioned", r.ok or not d:running())
  if not r.ok then return end
  d:must(d:foldersync())
  d:check("inbox synced", sync_all(d, "Inbox").ok)
  local due = now_s() + d:rand(SYNC_MIN, SYNC_MAX)
  local rounds = 0
  while d:running() do
    local left = due - now_s()
    if left < HEARTBEAT_MIN then
      sync_all(d, "Inbox")
      rounds = rounds + 1
      if rounds % DELIVER_EVERY == d.id % DELIVER_EVERY and d:running() then
        local ok, res = pcall(easload.deliver, neighbour(d),
                              { subject = easload.push_subject(), bytes = 2048 })
        if ok then d:check("mail delivered", res.ok) end
      end
      due = now_s() + d:rand(SYNC_MIN, SYNC_MAX)
    else
      local p = d:ping({ "Inbox" }, { heartbeat = math.floor(left) })
      if p.class ~= "canceled" then d:check("ping", p.ok) end
      if p.changed then
        for _, f in ipairs(p.folders) do sync_all(d, f) end
      elseif not p.ok and p.class ~= "canceled" then
        d:think("exp", 5)
      end
    end
  end
end
