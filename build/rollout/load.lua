-- wrk script for the rollout benchmark: alternates GET / and GET /work?ms=50 and records every status code.
-- Non-2xx answers are failures; wrk's own socket errors (connect/read/write/timeout) are transport errors.
-- done() writes a JSON summary to $WRK_OUT.
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  statuses = {}
  failsec = {}   -- unix second -> non-2xx count, to line failures up with the harness's events
  n = 0
  local work = os.getenv("WRK_WORK_PATH") or "/work?ms=50"
  reqs = { wrk.format("GET", "/"), wrk.format("GET", work) }
end

function request()
  n = n + 1
  return reqs[(n % 2) + 1]
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  if status < 200 or status > 299 then
    local s = os.time()
    failsec[s] = (failsec[s] or 0) + 1
  end
end

local function add(dst, src)
  for k, v in pairs(src) do dst[k] = (dst[k] or 0) + v end
end

function done(summary, latency, requests)
  local st, fs = {}, {}
  for _, t in ipairs(threads) do
    add(st, t:get("statuses"))
    add(fs, t:get("failsec"))
  end
  local parts = {}
  local function kv(tbl)
    local out = {}
    for k, v in pairs(tbl) do table.insert(out, string.format('"%s": %d', tostring(k), v)) end
    return "{" .. table.concat(out, ", ") .. "}"
  end
  local e = summary.errors
  local json = string.format(
    '{"duration_us": %d, "requests": %d, "bytes": %d, ' ..
    '"errors": {"connect": %d, "read": %d, "write": %d, "timeout": %d, "status": %d}, ' ..
    '"latency_us": {"p50": %d, "p90": %d, "p99": %d, "max": %d, "mean": %.1f}, ' ..
    '"statuses": %s, "failures_by_second": %s}\n',
    summary.duration, summary.requests, summary.bytes,
    e.connect, e.read, e.write, e.timeout, e.status,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean,
    kv(st), kv(fs))
  local path = os.getenv("WRK_OUT")
  if path then
    local f = io.open(path, "w"); f:write(json); f:close()
  else
    io.write(json)
  end
end
