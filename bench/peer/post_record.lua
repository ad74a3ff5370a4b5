-- wrk script of the peer benchmark: every request POSTs records to wrk's URL.
--   wrk ... -s post_record.lua URL -- MODE RECORDS PREFIX SUFFIX [AUTHORIZATION]
-- MODE single: the body is one record, PREFIX .. id .. SUFFIX, with a new id per request
--              ("<thread 2 digits>-<counter 10 digits>"), so the records found in Kafka can be
--              told apart and duplicates counted.
-- MODE ndjson: the body is RECORDS lines {"value":<record>}, built once per thread (ids
--              "<thread>-<line>"); every request sends the same lines.
-- done() prints one JSON line: wrk's counts and the latency percentiles (microseconds).
local next_thread = 0

function setup(thread)
  thread:set("thread_id", next_thread)
  next_thread = next_thread + 1
end

local counter = 0
local prefix, suffix
local static_request

function init(args)
  local mode, records = args[1], tonumber(args[2])
  prefix, suffix = args[3], args[4]
  wrk.method = "POST"
  if args[5] and args[5] ~= "" then wrk.headers["Authorization"] = args[5] end
  if mode == "single" then
    wrk.headers["Content-Type"] = "application/json"
  elseif mode == "ndjson" then
    wrk.headers["Content-Type"] = "application/x-ndjson"
    local lines = {}
    for i = 1, records do
      lines[i] = '{"value":' .. prefix .. string.format("%02d-%010d", thread_id, i) .. suffix .. '}'
    end
    static_request = wrk.format(nil, nil, nil, table.concat(lines, "\n"))
  else
    error("MODE must be single or ndjson, got " .. tostring(mode))
  end
end

function request()
  if static_request then return static_request end
  counter = counter + 1
  return wrk.format(nil, nil, nil, prefix .. string.format("%02d-%010d", thread_id, counter) .. suffix)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"duration_us":%d,"requests":%d,"bytes":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latency_us":{"min":%d,"mean":%.1f,"stdev":%.1f,"max":%d,"p50":%d,"p90":%d,"p99":%d,"p99_9":%d}}\n',
    summary.duration, summary.requests, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency.min, latency.mean, latency.stdev, latency.max,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9)))
end
