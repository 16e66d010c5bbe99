-- certs.lua - phones of four profiles against one certificate chain: each device provisions
-- once and checks that its TLS outcome is the class its profile should get for that chain
-- (core/tls.h), then, when the chain was accepted, syncs its Inbox. Serve one of the fixtures of
-- `easload certs make` and say which one with --var fixture=NAME; --resolve sends the
-- certificate's names to the loopback server.
--
--   easload certs make /tmp/certs
--   easload serve --tls-listen 127.0.0.1:8443 --cert-fixture /tmp/certs/wildcard
--   easload run scenarios/certs.lua --target https://owa.example.com:8443 \
--       --resolve owa.example.com:8443:127.0.0.1 --ca /tmp/certs/root.pem --var fixture=wildcard
--
-- Parameters (easload.var):
--   fixture   the chain the server serves (default "valid"): valid, valid-rsa2048,
--             expired-root, expired-leaf, not-yet-valid, self-signed, san-missing, wildcard,
--             incomplete-chain, sha1, rsa1024
--   expect    overrides the table below: "CLASS" for every profile, or
--             "PROFILE=CLASS,PROFILE=CLASS,..." (profiles not named expect "ok"), e.g. for a
--             chain of your own: --var expect=wm-12.1=wildcard_rejected
--
-- What it reports (results.json): checks "PROFILE gets CLASS" (a failure: the device met another
-- class, named in its log line; exit 1), "PROFILE syncs" for the accepted ones, and the
-- engine's counters tls.<class> (one per refused request).

-- what each profile meets: the modern profiles use OpenSSL security level 2 (no SHA-1
-- signatures, no RSA under 2048 bits) and accept wildcards; wm-12.1 is level 0 and refuses them
local EXPECT = {
  ["valid"] = {},
  ["valid-rsa2048"] = {},
  ["expired-root"] = { all = "expired" },
  ["expired-leaf"] = { all = "expired" },
  ["not-yet-valid"] = { all = "not_yet_valid" },
  ["self-signed"] = { all = "untrusted_root" },
  ["san-missing"] = { all = "name_mismatch" },
  ["wildcard"] = { ["wm-12.1"] = "wildcard_rejected" },
  ["incomplete-chain"] = { all = "incomplete_chain" },
  ["sha1"] = { all = "weak_signature", ["wm-12.1"] = "ok" },
  ["rsa1024"] = { all = "weak_key", ["wm-12.1"] = "ok" },
}

local fixture = easload.var("fixture", "valid")
local expect_var = easload.var("expect", nil)

local function parse_expect(s)
  local t = {}
  if not s:find("=") then
    t.all = s
    return t
  end
  for item in s:gmatch("[^,]+") do
    local p, c = item:match("^%s*([%w%.%-]+)%s*=%s*([%w_]+)%s*$")
    if not p then error("certs.lua: --var expect: '" .. item .. "' is not PROFILE=CLASS", 0) end
    t[p] = c
  end
  return t
end

local expect
if expect_var then
  expect = parse_expect(expect_var)
else
  expect = EXPECT[fixture]
  if not expect then
    error("certs.lua: unknown --var fixture=" .. fixture .. " (give --var expect=... for it)", 0)
  end
end

scenario {
  name = "certs", devices = 16, duration = "30s", user_count = 16,
  profiles = { ["android-14.1"] = 1, ["ios-16.1"] = 1, ["outlook-16.1"] = 1, ["wm-12.1"] = 1 },
  thresholds = { ["checks.failed"] = "== 0" },
}

function device(d)
  local want = expect[d.profile] or expect.all or "ok"
  local r = d:provision()
  if r.class == "canceled" then return end
  local got = r.ok and "ok" or (r.class == "tls" and r.tls) or r.class
  if got ~= want then
    d:log(string.format("%s: expected %s, got %s (%s)", d.profile, want, got, r.detail or ""))
  end
  d:check(d.profile .. " gets " .. want, got == want)
  if r.ok then
    d:check(d.profile .. " syncs", d:foldersync().ok and d:sync("Inbox").ok)
  end
end
