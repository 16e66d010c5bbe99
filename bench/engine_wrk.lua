-- engine_wrk.lua - wrk script for bench/engine.sh: every connection POSTs the steady-state
-- FolderSync of one provisioned device (wrk sends one request for all its connections, so they
-- share the device; the server does the same work per request). Environment: EL_WRK_BODY (the
-- WBXML body, from `bench_curl_floor setup`), EL_WRK_DEVICE, EL_WRK_USER, EL_WRK_PASS,
-- EL_WRK_POLICY; EL_WRK_CMD (default FolderSync; Sync: the 50-item Sync `bench_curl_floor setup
-- ... sync` wrote, replayed against `easload serve --sync-replay`).
local f = assert(io.open(os.getenv("EL_WRK_BODY"), "rb"))
local body = f:read("*a")
f:close()
local user, pass = os.getenv("EL_WRK_USER"), os.getenv("EL_WRK_PASS")

local b64chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
local function b64(s)
  return ((s:gsub(".", function(x)
    local r, byte = "", x:byte()
    for i = 8, 1, -1 do r = r .. (byte % 2 ^ i - byte % 2 ^ (i - 1) > 0 and "1" or "0") end
    return r
  end) .. "0000"):gsub("%d%d%d?%d?%d?%d?", function(x)
    if #x < 6 then return "" end
    local c = 0
    for i = 1, 6 do c = c + (x:sub(i, i) == "1" and 2 ^ (6 - i) or 0) end
    return b64chars:sub(c + 1, c + 1)
  end) .. ({ "", "==", "=" })[#s % 3 + 1])
end

wrk.method = "POST"
wrk.body = body
wrk.path = "/Microsoft-Server-ActiveSync?Cmd=" .. (os.getenv("EL_WRK_CMD") or "FolderSync") ..
    "&User=" .. user .. "&DeviceId=" ..
    os.getenv("EL_WRK_DEVICE") .. "&DeviceType=Android"
wrk.headers["Content-Type"] = "application/vnd.ms-sync.wbxml"
wrk.headers["MS-ASProtocolVersion"] = "14.1"
wrk.headers["X-MS-PolicyKey"] = os.getenv("EL_WRK_POLICY")
wrk.headers["User-Agent"] = "Android-EAS/14.1 (wrk)"
wrk.headers["Authorization"] = "Basic " .. b64(user .. ":" .. pass)
