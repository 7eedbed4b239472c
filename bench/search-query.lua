-- wrk script for bench/search.sh: POSTs the JSON body in the file SEARCH_BODY_FILE (a GraphQL
-- request, {"query": ...}) to the path wrk is given (/v2/_zot/ext/search) with Content-Type
-- application/json, and checks every answer: one that is not 200 or whose body holds "errors"
-- counts as a failure, and done() prints "search answers: <n> checked, <m> failed" for search.sh.
local f = assert(io.open(assert(os.getenv("SEARCH_BODY_FILE"), "SEARCH_BODY_FILE is not set"), "rb"))
local body = f:read("*a")
f:close()

wrk.method = "POST"
wrk.body = body
wrk.headers["Content-Type"] = "application/json"

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  checked = 0
  failed = 0
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
