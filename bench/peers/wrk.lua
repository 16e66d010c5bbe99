-- wrk.lua - bench/peers: wrk (raw HTTP floor) with one device per connection's worth of
-- credentials. wrk does not say which connection a request() is for, so requests cycle over the
-- N devices (user<i>/pass<i>, DeviceId WK<i>): N keep-alive connections, N devices, each request
-- with its device's own Basic header; a device is not pinned to one connection.
-- Environment: PEERS_MODE busy|idle, PEERS_N, PEERS_FS_BODY, PEERS_PING_BODY (files).
--   busy: FolderSync with the fixed 13-byte body, closed loop
--   idle: the first N requests are FolderSyncs (device 1..N), the next N Pings (device 1..N,
--         heartbeat 3000 s): each connection then holds one long poll
-- run.sh gives wrk --timeout 30s: wrk only counts a late answer as a timeout (it keeps the
-- connection and the request), and sizes its latency histogram by the timeout (3600 s: 28 GB)
local function slurp(p)
  local f = assert(io.open(p, "rb")); local s = f:read("*a"); f:close(); return s
end
local b64chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
local function b64(s)
  local out, n = {}, #s
  for i = 1, n, 3 do
    local a, b, c = s:byte(i, i + 2)
    local v = a * 65536 + (b or 0) * 256 + (c or 0)
    local q = {}
    for k = 3, 0, -1 do
      local x = math.floor(v / 64 ^ k) % 64
      q[#q + 1] = b64chars:sub(x + 1, x + 1)
    end
    if not b then q[3], q[4] = "=", "=" elseif not c then q[4] = "=" end
    out[#out + 1] = table.concat(q)
  end
  return table.concat(out)
end

local mode = os.getenv("PEERS_MODE") or "busy"
local n = tonumber(os.getenv("PEERS_N") or "100")
local fs_body, ping_body = slurp(os.getenv("PEERS_FS_BODY")), slurp(os.getenv("PEERS_PING_BODY"))
local fs, ping = {}, {}
for i = 1, n do
  local user = "user" .. i
  local q = "&User=" .. user .. "&DeviceId=WK" .. string.format("%06d", i) .. "&DeviceType=Android"
  local h = {
    ["Content-Type"] = "application/vnd.ms-sync.wbxml",
    ["MS-ASProtocolVersion"] = "14.1",
    ["User-Agent"] = "Android-EAS/14.1 (wrk)",
    ["Authorization"] = "Basic " .. b64(user .. ":pass" .. i),
  }
  fs[i] = wrk.format("POST", "/Microsoft-Server-ActiveSync?Cmd=FolderSync" .. q, h, fs_body)
  ping[i] = wrk.format("POST", "/Microsoft-Server-ActiveSync?Cmd=Ping" .. q, h, ping_body)
end

local k = 0
function request()
  k = k + 1
  if mode == "idle" then
    if k <= n then return fs[k] end
    return ping[(k - n - 1) % n + 1]
  end
  return fs[(k - 1) % n + 1]
end
