-- One wrk connection = one Locust-like user (wrk/README.md). Loaded by wrk in its main Lua state (setup, done)
-- and once per thread (init, delay, request, response). wrk 4.1.0 calls, per connection:
--   delay() before the FIRST request and after every response (c->delayed is set at connect and in
--   response_complete), then request() when the delay's timer fires, response() for each answer.
-- The plan file (written by wrkload.plan_file) holds the pre-built requests and each thread's first delays:
-- Lua builds no JSON and draws only the think time.
local ffi = require("ffi")  -- Debian's wrk links LuaJIT 2.1 with its FFI
ffi.cdef [[
typedef struct { uint64_t count, limit, min, max; uint64_t data[]; } wl_stats;  /* wrk's src/stats.h */
typedef struct { long tv_sec; long tv_nsec; } wl_timespec;
int clock_gettime(int clk, wl_timespec *tp);
]]

local threads, counter = {}, 0

function setup(thread)
  counter = counter + 1
  thread:set("index", counter)
  threads[counter] = thread
end

local SPECIES = { Adelie = 1, Chinstrap = 2, Gentoo = 3 }
local reqs, nreq, cursor = {}, 0, 0
local first, nfirst, delays = {}, 0, 0
local wait_min, wait_span, batch_size = 0, 0, 0
-- Globals, read by done() via thread:get: flat tables only (wrk 4.1.0 segfaults copying nested ones).
sec_n, sec_f, kind_n, kind_f, failures, inflight, started = {}, {}, {}, {}, {}, {}, 0

local function now()
  local ts = ffi.new("wl_timespec")
  ffi.C.clock_gettime(0, ts)  -- CLOCK_REALTIME: the history's unix seconds
  return tonumber(ts.tv_sec) + tonumber(ts.tv_nsec) / 1e9
end

function init(args)
  local plan = dofile(args[1])
  local mine = plan.threads[index]
  for i, r in ipairs(plan.requests) do
    reqs[i] = { kind = r.kind, raw = wrk.format(r.method, r.path, plan.headers, r.body) }
  end
  nreq, cursor = #reqs, mine.offset % #reqs
  first, nfirst = mine.first_ms, #mine.first_ms
  wait_min, wait_span, batch_size = plan.wait_min_ms, plan.wait_max_ms - plan.wait_min_ms, plan.batch_size
  math.randomseed(plan.seed + index)
  started = now()
end

function delay()
  delays = delays + 1
  if delays <= nfirst then return first[delays] end  -- this thread's connections' first requests
  return math.floor(wait_min + math.random() * wait_span + 0.5)  -- think time, uniform(wait_min, wait_max)
end

function request()
  cursor = cursor % nreq + 1
  local r = reqs[cursor]
  inflight[r.kind] = (inflight[r.kind] or 0) + 1
  return r.raw
end

local function single(body, legacy)
  local sp = body:match('"species":"([^"]*)"')
  if not sp then return "prediction without species" end
  if not SPECIES[sp] then return "unknown species '" .. sp .. "'" end
  local id = body:match('"species_id":(%d+)')
  if id and tonumber(id) ~= SPECIES[sp] then return "species_id " .. id .. " does not match " .. sp end
  if legacy and body:match('"species_name":"([^"]*)"') ~= sp then
    return "legacy answer without matching species_name"
  end
  if not body:find('"probabilities":{', 1, true) then return "probabilities missing or not one per species" end
  return nil
end

local function batch(body)
  local n = 0
  for sp in body:gmatch('"species":"([^"]*)"') do
    if not SPECIES[sp] then return "batch: unknown species '" .. sp .. "'" end
    n = n + 1
  end
  if n ~= batch_size then return "expected a list of " .. batch_size .. " predictions" end
  return nil
end

-- What the answer is (by its body: wrk tells Lua nothing about the connection) and what is wrong with it.
local function judge(status, body)
  if status ~= 200 then return nil, "HTTP " .. status end
  if body:find('"predictions"', 1, true) then return "batch", batch(body) end
  if body:find('"probabilities"', 1, true) then  -- model-info names the species too, without probabilities
    if body:find('"species_name"', 1, true) then return "legacy", single(body, true) end
    return "natural", single(body, false)
  end
  if body:find('"version"', 1, true) then
    if body:find('"name":"', 1, true) then return "model-info", nil end
    return "model-info", "model-info without name and version"
  end
  return nil, "body is not a known answer"
end

local function busiest()  -- an answer that does not say what it answers: the kind most in flight here
  local best, most = "natural", -1
  for k, n in pairs(inflight) do if n > most then best, most = k, n end end
  return best
end

function response(status, headers, body)
  local kind, err = judge(status, body)
  kind = kind or busiest()
  inflight[kind] = (inflight[kind] or 1) - 1
  local sec = os.time()
  sec_n[sec] = (sec_n[sec] or 0) + 1
  kind_n[kind] = (kind_n[kind] or 0) + 1
  if err then
    sec_f[sec] = (sec_f[sec] or 0) + 1
    kind_f[kind] = (kind_f[kind] or 0) + 1
    local key = kind .. "\t" .. err
    failures[key] = (failures[key] or 0) + 1
  end
end

-- Lines for wrkload.segment: exact latency histogram (wrk's own, read through the FFI), then per thread.
function done(summary, latency, requests)
  local out = assert(io.open(os.getenv("WRKLOAD_OUT"), "w"))
  local e = summary.errors
  out:write(string.format("summary\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\n", summary.duration, summary.requests,
    summary.bytes, e.connect, e.read, e.write, e.status, e.timeout))
  local s = ffi.cast("wl_stats **", latency)[0]
  if s.count > 0 then
    for us = tonumber(s.min), tonumber(s.max) do
      local c = s.data[us]
      if c > 0 then out:write(string.format("lat\t%d\t%d\n", us, tonumber(c))) end
    end
  end
  for i, t in ipairs(threads) do
    out:write(string.format("start\t%d\t%.3f\n", i, t:get("started")))
    local sf, kf = t:get("sec_f"), t:get("kind_f")
    for sec, n in pairs(t:get("sec_n")) do
      out:write(string.format("sec\t%d\t%d\t%d\t%d\n", i, sec, n, sf[sec] or 0))
    end
    for kind, n in pairs(t:get("kind_n")) do
      out:write(string.format("kind\t%d\t%s\t%d\t%d\n", i, kind, n, kf[kind] or 0))
    end
    for key, n in pairs(t:get("failures")) do out:write(string.format("fail\t%d\t%d\t%s\n", i, n, key)) end
    for kind, n in pairs(t:get("inflight")) do out:write(string.format("inflight\t%d\t%s\t%d\n", i, kind, n)) end
  end
  out:close()
end
