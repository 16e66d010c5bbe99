-- throttle.lua - how a server's per-user limits bite as a user adds phones. The devices of each
-- user start one after another (ramp), so the number of phones per user climbs past the
-- server's concurrency limit (EASMaxConcurrency) and its partnership limit (EASMaxDevices).
-- Each phone provisions (a throttled Provision is tried again; 177 ends the phone), fetches its
-- folders, then loops like a phone on direct push: a Sync of the Inbox (the latency of the ones
-- that pass), a short pause, then a Ping held on the Inbox. Phone 1 of each user plays the mail
-- system instead: it syncs and delivers a mail to its user every second or so (admin API, needs
-- --admin; without it the Pings are never woken), which wakes the user's Pings, so slots are
-- given back and taken again. Held Pings fill the user's concurrency slots; the next requests
-- get 503 (the engine honours Retry-After, retries once, then the result is "throttled").
-- The server checks concurrency before the partnership limit, so a phone past the partnership
-- limit sees 177 only once its Provision gets a slot.
--
-- Start the server with the limits to find, e.g.
--   easload serve --users 2 --admin 127.0.0.1:9090 --max-concurrency-per-user 4 \
--                 --max-devices-per-user 8
--   easload run scenarios/throttle.lua --target http://127.0.0.1:8080 \
--               --admin http://127.0.0.1:9090 --workers 1
--
-- What it reports (results.json):
--   outcomes.throttled.percent        the share of throttled requests (every round trip counts)
--   commands.sync.outcomes.ok.latency_us   the latency of the Syncs that passed
--   counters throttle.waits, http.503 the engine's Retry-After waits, the 503s it got
--   counters eas.provision.status.177 phones refused a partnership (past --max-devices-per-user)
--   checks "throttle onset: N phones per user"   where throttling started: passed once per
--                                     user, N = that user's phones started in this worker when
--                                     its first request was throttled (use --workers 1 for one
--                                     view: Lua globals are per worker)
--   checks "phone K of its user: refused (177)" / "phone K of its user: partnered" per phone
--   checks "phone K of its user: throttled" / "... passed"  per round of the loop (counters: a
--                                     passed check is a count here, they never fail)
-- Thresholds that hold whatever the limits: checks never fail; the Syncs that pass stay fast.
scenario {
  name = "throttle", devices = 24, ramp = "12s", duration = "20s", user_count = 2,
  profile = "android-14.1",
  thresholds = { ["sync.p99"] = "< 30s" },
}

-- per worker: phones started per user, and whether throttling has been seen for the user
local started, onset = {}, {}

local function rank_of(d)
  return (d.id - 1) // easload.users() + 1 -- the k-th phone of its user (device ids are global)
end

-- One command with the bookkeeping: n = the user's phones started when the command was sent.
local function call(d, rank, fn, ...)
  local n = started[d.user]
  local r = fn(d, ...)
  if r.class == "throttled" then
    if not onset[d.user] then
      onset[d.user] = true
      d:log(string.format("throttle onset for %s: %d phones, phone %d throttled on %s (%s)",
                          d.user, n, rank, r.cmd, r.detail or ""))
      d:check(string.format("throttle onset: %d phones per user", n), true)
    end
    d:check(string.format("phone %d of its user: throttled", rank), true)
  elseif r.ok then
    d:check(string.format("phone %d of its user: passed", rank), true)
  end
  return r
end

-- The mail system for the user: a mail every second wakes the user's held Pings, so slots are
-- released and taken again (without --admin, this phone only syncs).
local function deliverer(d, rank)
  local can = true
  while d:running() do
    call(d, rank, d.sync, "Inbox", { window = 25 })
    if can then
      local ok, r = pcall(easload.deliver, d.user, { subject = "throttle", bytes = 1024 })
      can = ok and (r.ok or r.class == "canceled")
    end
    d:think("uniform", 0.5, 1.5)
  end
end

function device(d)
  local rank = rank_of(d)
  started[d.user] = (started[d.user] or 0) + 1
  local p
  repeat -- a throttled Provision is tried again; 177 or another failure ends the phone
    p = call(d, rank, d.provision)
    if p.class == "throttled" then d:think("uniform", 0.5, 1.5) end
  until p.class ~= "throttled" or not d:running()
  if p.status == 177 then
    d:check(string.format("phone %d of its user: refused (177)", rank), true)
    return -- refused a partnership: the phone gives up until someone removes another
  end
  if not p.ok then return end
  d:check(string.format("phone %d of its user: partnered", rank), true)
  while d:running() and not call(d, rank, d.foldersync).ok do
    d:think("uniform", 0.5, 1.5)
  end
  if rank == 1 then return deliverer(d, rank) end
  while d:running() do
    local s = call(d, rank, d.sync, "Inbox", { window = 25 })
    if s.ok then
      d:think("uniform", 0.2, 1.0) -- the phone handles what it got, then goes back to push
      local r = call(d, rank, d.ping, { "Inbox" }, { heartbeat = 60 })
      if not r.ok then d:think("uniform", 0.5, 1.5) end
    else
      d:think("uniform", 0.5, 1.5)
    end
  end
end
