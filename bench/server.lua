-- bench/server.lua - the wrk script of bench/server.sh: drives `easload serve` (or the nginx
-- floor) with EAS requests written as WBXML bytes by hand, one device per wrk thread.
--
--   wrk -tN -cN -d10s -s bench/server.lua URL -- MODE USERS [TRUNCATION]
--
-- MODE: foldersync  FolderSync with SyncKey 0, over and over (the 13-byte body)
--       sync        Sync of the Inbox, WindowSize 50, HTML bodies (AirSyncBase Type 2) cut at
--                   TRUNCATION bytes (0 = whole), the SyncKey of each response sent in the next
--                   request; when the folder is exhausted (no MoreAvailable) a SyncKey 0 prime
--                   starts it over
--       floor       the FolderSync request as is, no Provision (for the nginx `return 200` peer)
-- Needs exactly one connection per thread (-t = -c): wrk calls request() without saying
-- which connection it is for, so a per-device conversation (two-phase Provision, then sync
-- keys that each replace the last one) is only in order when a thread owns one connection.
-- Each thread provisions its device first (Provision phase 1, phase 2 with the temporary key),
-- then sends the measured command with the final X-MS-PolicyKey. done() prints one line:
--   lua: mode=M measured=N items=N sync50=N primes=N provisions=N errors=N seconds=S
-- measured counts the answers of the measured command that were right (Status 1, and for
-- sync the SyncKey found); sync50 counts Sync answers with exactly 50 items.

local threads = {}
local next_id = 0

function setup(thread)
    next_id = next_id + 1
    thread:set("tid", next_id)
    table.insert(threads, thread)
end

local B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

local function base64(s)
    local out = {}
    for i = 1, #s, 3 do
        local a, b, c = s:byte(i, i + 2)
        local n = a * 65536 + (b or 0) * 256 + (c or 0)
        local q = {math.floor(n / 262144) % 64, math.floor(n / 4096) % 64,
                   math.floor(n / 64) % 64, n % 64}
        out[#out + 1] = B64:sub(q[1] + 1, q[1] + 1) .. B64:sub(q[2] + 1, q[2] + 1) ..
                        (b and B64:sub(q[3] + 1, q[3] + 1) or "=") ..
                        (c and B64:sub(q[4] + 1, q[4] + 1) or "=")
    end
    return table.concat(out)
end

-- WBXML pieces (header: version 1.3, public id 1, UTF-8, no string table)
local HDR = "\3\1\106\0"
local function str(s)
    return "\3" .. s .. "\0"
end
local POLICY_TYPE = "MS-EAS-Provisioning-WBXML"
-- Provision (page 14): Provision 0x05 Policies 0x06 Policy 0x07 PolicyType 0x08
-- PolicyKey 0x09 Status 0x0B; +0x40 = has content; 0x01 = END
local PROV1 = HDR .. "\0\14" .. "\69\70\71\72" .. str(POLICY_TYPE) .. "\1\1\1\1"
local function prov2(temp)
    return HDR .. "\0\14" .. "\69\70\71\72" .. str(POLICY_TYPE) .. "\1" .. "\73" .. str(temp) ..
               "\1" .. "\75" .. str("1") .. "\1\1\1\1"
end
-- FolderSync (page 7) SyncKey 0: 03 01 6A 00 00 07 56 52 03 30 00 01 01
local FOLDERSYNC0 = HDR .. "\0\7\86\82" .. str("0") .. "\1\1"
-- Sync (page 0): Sync 0x05 Collections 0x1C Collection 0x0F SyncKey 0x0B CollectionId 0x12
-- WindowSize 0x15 Options 0x17; AirSyncBase (page 17) BodyPreference 0x05 Type 0x06
-- TruncationSize 0x07. Inbox is CollectionId 1.
local function sync(key, trunc)
    local head = HDR .. "\69\92\79" .. "\75" .. str(key) .. "\1" .. "\82" .. str("1") .. "\1"
    if key == "0" then
        return head .. "\1\1\1"
    end
    local bp = "\70" .. str("2") .. "\1"
    if trunc ~= "0" then
        bp = bp .. "\71" .. str(trunc) .. "\1"
    end
    return head .. "\85" .. str("50") .. "\1" .. "\87\0\17\69" .. bp .. "\1\0\0\1" .. "\1\1\1"
end

local users, trunc
local user, device, auth
local state, key, policy, cached
-- globals, so that done() can read them from each thread with thread:get()
mode, measured, items, sync50, primes, provisions, errors = nil, 0, 0, 0, 0, 0, 0

function init(args)
    mode = args[1] or "foldersync"
    users = tonumber(args[2] or "1000")
    trunc = args[3] or "4096"
    local n = (tid - 1) % users + 1
    user = "user" .. n
    device = string.format("bench%dt%d", os.time() % 100000, tid)
    auth = "Basic " .. base64(user .. ":pass" .. n)
    state = (mode == "floor") and "measure" or "p1"
    policy = "0"
end

local function req(cmd, body, with_key)
    local h = {
        ["Authorization"] = auth,
        ["MS-ASProtocolVersion"] = "14.1",
        ["Content-Type"] = "application/vnd.ms-sync.wbxml",
        ["User-Agent"] = "easload-bench",
    }
    if with_key then
        h["X-MS-PolicyKey"] = policy
    end
    local path = "/Microsoft-Server-ActiveSync?Cmd=" .. cmd .. "&User=" .. user .. "&DeviceId=" ..
                     device .. "&DeviceType=SmartPhone"
    return wrk.format("POST", path, h, body)
end

function request()
    if state == "p1" then
        return req("Provision", PROV1, false)
    elseif state == "p2" then
        return req("Provision", prov2(key), false)
    elseif mode == "sync" then
        return req("Sync", sync(key, trunc), true)
    end
    if cached == nil then
        cached = req("FolderSync", FOLDERSYNC0, mode ~= "floor")
    end
    return cached
end

local function fail()
    errors = errors + 1
    state = (mode == "floor") and "measure" or "p1"
    key = nil
end

function response(status, headers, body)
    if status ~= 200 then
        return fail()
    end
    if state == "p1" or state == "p2" then
        -- Policy Status 1 (0x4B) then PolicyKey (0x49) on page 14
        local k = body:match("\73\3(%d+)%z")
        if k == nil then
            return fail()
        end
        provisions = provisions + 1
        if state == "p1" then
            key, state = k, "p2"
        else
            policy, key, state = k, "0", "measure"
            cached = nil
        end
        return
    end
    if mode == "floor" then
        measured = measured + 1
    elseif mode == "foldersync" then
        -- page 7: FolderSync 0x16 (+0x40) then Status 0x0C (+0x40) "1"
        if body:sub(5, 12) == "\0\7\86\76\3\49\0\1" then
            measured = measured + 1
        else
            fail()
        end
    else
        -- the collection head: SyncKey, CollectionId, Status "1", then MoreAvailable (0x14)
        -- if there is more; all within the first 64 bytes
        local head = body:sub(1, 64)
        local k, rest = head:match("^\3\1\106%z\69\92\79\75\3(%d+)%z\1\82\3%d+%z\1\78\3\49%z\1(.?)")
        if k == nil then
            return fail()
        end
        if key == "0" then
            primes = primes + 1
            key = k
            return
        end
        -- count Add + ServerId (0x47 0x4D 0x03)
        local n, at = 0, 1
        while true do
            at = body:find("\71\77\3", at, true)
            if at == nil then
                break
            end
            n, at = n + 1, at + 3
        end
        measured = measured + 1
        items = items + n
        if n == 50 then
            sync50 = sync50 + 1
        end
        key = (rest == "\20") and k or "0"
    end
end

function done(summary, latency, requests)
    local m = threads[1] and threads[1]:get("mode") or "?"
    local t = {measured = 0, items = 0, sync50 = 0, primes = 0, provisions = 0, errors = 0}
    for _, th in ipairs(threads) do
        for name in pairs(t) do
            t[name] = t[name] + (th:get(name) or 0)
        end
    end
    io.write(string.format(
        "lua: mode=%s measured=%d items=%d sync50=%d primes=%d provisions=%d errors=%d " ..
            "seconds=%.3f\n", m, t.measured, t.items, t.sync50, t.primes, t.provisions,
        t.errors, summary.duration / 1e6))
end
