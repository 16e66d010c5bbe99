-- search.lua - mailbox and global address list searches, as a user typing into the search box
-- and the recipient field.
scenario {
  name = "search", devices = 50, ramp = "5s", duration = "1m",
  profile = "android-14.1",
  thresholds = { ["search.p99"] = "< 2000ms" },
}

local words = { "meeting", "report", "invoice", "lunch", "project", "review", "budget" }

function device(d)
  d:must(d:provision())
  d:must(d:foldersync())
  while d:running() do
    local r = d:search(words[d:rand(#words)], { store = "Mailbox", range = 25 })
    d:check("mailbox search", r.ok)
    d:think("uniform", 1, 3)
    r = d:search("user", { store = "GAL", range = 10 })
    d:check("gal search", r.ok)
    d:think("exp", 3)
  end
end
