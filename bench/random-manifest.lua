-- wrk script for bench/scale.sh: manifest GETs spread at random over the repositories and tags that
-- bench/ScaleLoad.java wrote (scaleNNN/repo-NNNNNNN, tags v0..v(MANIFESTS-1)), so reads miss the
-- node's caches the way a large registry's do. Environment: SCALE_REPOS, SCALE_MANIFESTS.
local repos = tonumber(os.getenv("SCALE_REPOS") or "100000")
local manifests = tonumber(os.getenv("SCALE_MANIFESTS") or "10")
local accept = "application/vnd.oci.image.manifest.v1+json"

function setup(thread)
  thread:set("seed", math.random(1, 1000000))
end

function init(args)
  math.randomseed(os.time() + (seed or 0))
  wrk.headers["Accept"] = accept
end

function request()
  local r = math.random(0, repos - 1)
  local path = string.format("/v2/scale%03d/repo-%07d/manifests/v%d", r % 997, r, math.random(0, manifests - 1))
  return wrk.format("GET", path)
end

-- answers other than 200 show up as wrk's "Non-2xx or 3xx responses" line, which scale.sh refuses
