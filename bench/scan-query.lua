-- wrk script for bench/scan.sh: POSTs, in turn, the JSON bodies in the file SCAN_BODIES_FILE (one
-- GraphQL request {"query": ...} per line, e.g. CVEListForImage of a rotating set of images) to the
-- path wrk is given (/v2/_zot/ext/search) with Content-Type application/json, and checks every answer:
-- one that is not 200 or whose body holds "errors" counts as a failure. done() prints
-- "search answers: <n> checked, <m> failed" (the line bench/scan.sh checks, as search.sh does).
local f = assert(io.open(assert(os.getenv("SCAN_BODIES_FILE"), "SCAN_BODIES_FILE is not set"), "rb"))
local all = f:read("*a")
f:close()
local bodies = {}
for line in string.gmatch(all, "[^\n]+") do
  table.insert(bodies, line)
end
assert(#bodies > 0, "SCAN_BODIES_FILE holds no body")

local threads = {}
local counter = 1

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  checked = 0
  failed = 0
  counter = 1 + (id or 0) * 7919
end

function request()
  local body = bodies[(counter % #bodies) + 1]
  counter = counter + 1
  return wrk.format("POST", nil, { ["Content-Type"] = "application/json" }, body)
end

function response(status, headers, resp)
  checked = checked + 1
  if status ~= 200 or resp == nil or string.find(resp, '"errors"', 1, true) then
    failed = failed + 1
  end
end

function done(summary, latency, requests)
  local c, e = 0, 0
  for _, t in ipairs(threads) do
    c = c + t:get("checked")
    e = e + t:get("failed")
  end
  io.write(string.format("search answers: %d checked, %d failed\n", c, e))
end
