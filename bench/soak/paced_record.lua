-- wrk script of the soak benchmark: POSTs one record per request at a fixed rate.
--   wrk -t T ... -s paced_record.lua URL -- RATE_PER_THREAD_PER_S PREFIX SUFFIX AUTHORIZATION EPOCH_S
-- The body is PREFIX .. id .. SUFFIX with a new id per request ("<thread 2>-<counter 10>", as
-- bench/peer/post_record.lua), so the records found in Kafka can be told apart.
-- Pacing (wrk2 is not packaged): each thread owns RATE_PER_THREAD_PER_S of the rate and hands out
-- send slots 1/rate apart; delay() holds a connection until its slot. A thread that falls behind
-- (the server stalled) forgets debts older than 100 ms instead of bursting to catch up, so the
-- rate after a stall is the target rate, not a spike.
-- response() counts answers per second since EPOCH_S (CLOCK_REALTIME) and status, so the harness
-- can tell what the clients saw during the broker restart; done() prints one JSON line.
local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } soak_timespec;
  int clock_gettime(int clk_id, soak_timespec *tp);
]]
local ts = ffi.new("soak_timespec")
local function now_s()
  ffi.C.clock_gettime(0, ts) -- CLOCK_REALTIME: comparable with the harness's time.time()
  return tonumber(ts.tv_sec) + tonumber(ts.tv_nsec) * 1e-9
end

local threads = {}
local next_thread = 0

function setup(thread)
  thread:set("thread_id", next_thread)
  next_thread = next_thread + 1
  table.insert(threads, thread)
end

-- Globals, not locals: done() reads them from each thread with thread:get.
counter = 0
answers = {} -- "<second>:<status>" -> count
local prefix, suffix, epoch
local interval_s, next_slot

function init(args)
  local rate = tonumber(args[1])
  prefix, suffix = args[2], args[3]
  epoch = tonumber(args[5])
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  if args[4] and args[4] ~= "" then wrk.headers["Authorization"] = args[4] end
  interval_s = 1 / rate
end

function delay()
  local t = now_s()
  if next_slot == nil or next_slot < t - 0.1 then next_slot = t end
  local wait_ms = (next_slot - t) * 1000
  next_slot = next_slot + interval_s
  if wait_ms < 1 then return 0 end
  return math.floor(wait_ms)
end

function request()
  counter = counter + 1
  return wrk.format(nil, nil, nil, prefix .. string.format("%02d-%010d", thread_id, counter) .. suffix)
end

function response(status, headers, body)
  local k = math.floor(now_s() - epoch) .. ":" .. status
  answers[k] = (answers[k] or 0) + 1
end

function done(summary, latency, requests)
  local e = summary.errors
  local per_thread = {}
  for _, thread in ipairs(threads) do
    local parts = {}
    for k, v in pairs(thread:get("answers")) do table.insert(parts, string.format('"%s":%d', k, v)) end
    table.insert(per_thread, string.format('{"sent":%d,"answers":{%s}}', thread:get("counter"),
      table.concat(parts, ",")))
  end
  io.write(string.format(
    '{"duration_us":%d,"requests":%d,"bytes":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latency_us":{"min":%d,"mean":%.1f,"stdev":%.1f,"max":%d,"p50":%d,"p90":%d,"p99":%d,"p99_9":%d},' ..
    '"threads":[%s]}\n',
    summary.duration, summary.requests, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency.min, latency.mean, latency.stdev, latency.max,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9),
    table.concat(per_thread, ",")))
end
