-- wrk script for benchmarks/serve_beauty.sh. Environment:
--   MODE      item | batch | id | prefix | recommend
--   IDS_FILE  one line per item: "<external_id>\t<semantic_id>"
--   BATCH     ids per batchGet (default 50); HISTORY items per recommend (default 5)
--   K, BEAM   recommend parameters (default 10, 20); MAP  map name for id/prefix
-- Each thread seeds its own RNG (fixed seeds: the request mix is reproducible).
local mode = os.getenv("MODE") or "item"
local ids_file = os.getenv("IDS_FILE")
local batch = tonumber(os.getenv("BATCH") or "50")
local history = tonumber(os.getenv("HISTORY") or "5")
local k = tonumber(os.getenv("K") or "10")
local beam = tonumber(os.getenv("BEAM") or "20")
local map = os.getenv("MAP") or "rkmeans"

local ids, sids = {}, {}
local thread_counter = 0

local function load()
  for line in io.lines(ids_file) do
    local ext, sid = line:match("^([^\t]+)\t?(.*)$")
    if ext then
      ids[#ids + 1] = ext
      sids[#sids + 1] = sid
    end
  end
end

local function encode(s)
  return (s:gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end

function setup(thread)
  thread_counter = thread_counter + 1
  thread:set("seed", 1000 + thread_counter)
end

function init(args)
  load()
  math.randomseed(seed or 1)
end

local function pick()
  return math.random(#ids)
end

local function id_list(n)
  local parts = {}
  for i = 1, n do parts[i] = '"' .. ids[pick()] .. '"' end
  return "[" .. table.concat(parts, ",") .. "]"
end

local json_headers = { ["Content-Type"] = "application/json" }

function request()
  if mode == "item" then
    return wrk.format("GET", "/v1/items/" .. encode(ids[pick()]))
  elseif mode == "batch" then
    return wrk.format("POST", "/v1/items:batchGet", json_headers,
                      '{"ids":' .. id_list(batch) .. ',"semantic_ids":true}')
  elseif mode == "id" then
    return wrk.format("GET", "/v1/maps/" .. map .. "/ids/" .. sids[pick()])
  elseif mode == "prefix" then
    local first = sids[pick()]:match("^(%d+)")
    return wrk.format("GET", "/v1/maps/" .. map .. "/prefix/" .. first .. "?limit=20")
  elseif mode == "recommend" then
    return wrk.format("POST", "/v1/recommend", json_headers,
                      '{"history":' .. id_list(history) .. ',"k":' .. k .. ',"beam":' .. beam .. '}')
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_us":%d,"rps":%.1f,"p50_us":%d,"p90_us":%d,"p99_us":%d,' ..
    '"p999_us":%d,"max_us":%d,"mean_us":%.1f,"errors_connect":%d,"errors_read":%d,' ..
    '"errors_write":%d,"errors_status":%d,"errors_timeout":%d}\n',
    summary.requests, summary.duration, summary.requests / (summary.duration / 1e6),
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9), latency.max, latency.mean, e.connect, e.read, e.write, e.status,
    e.timeout))
end
