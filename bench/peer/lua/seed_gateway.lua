-- The seed's gateway, reduced to its data path: read the request body and hand it to
-- lua-resty-kafka 0.07 (Debian's lua-nginx-kafka, modules nginx.kafka.*), async or sync.
-- Used by bench/peer/nginx-kafka.conf; configured by bench/peer/seed_stack.sh.
--
-- What it answers (the shapes of Intake's native endpoint, so one wrk script fits both):
--   async: 202 {"accepted":1} once the record is in the worker's ring buffer
--          (lua-resty-kafka sends it later; what it cannot send it drops and logs)
--   sync:  200 {"topic":..,"offset":..} once Kafka answered the Produce request
--   503 / 502 with {"error":{...}} when the producer refuses or the send fails
-- GET /stats: this instance's counters (records the async producer gave up on, refusals).
local producer = require "nginx.kafka.producer"
local cjson = require "cjson.safe"

local _M = {}

local settings  -- from configure(), in init_by_lua (the master, before the workers fork)
local async_producer  -- one per worker (lua-resty-kafka caches async producers per cluster)
local stats = ngx.shared.seed_stats

local function count(name, n)
  local _, err = stats:incr(name, n or 1, 0)
  if err then ngx.log(ngx.ERR, "seed_stats: ", err) end
end

local function producer_config(producer_type)
  return {
    producer_type = producer_type,
    required_acks = settings.required_acks,
    api_version = settings.api_version,
    request_timeout = settings.request_timeout_ms,
    max_retry = settings.max_retry,
    retry_backoff = settings.retry_backoff_ms,
    flush_time = settings.flush_time_ms,
    batch_num = settings.batch_num,
    batch_size = settings.batch_size,
    -- The ring buffer is the async producer's queue. 0.07 allocates it for a sync producer too
    -- (3 slots per record, never used): one slot keeps the per-request producer cheap.
    max_buffering = producer_type == "async" and settings.max_buffering or 1,
    -- Called with the records the async producer gives up on (after max_retry): counted, so
    -- the benchmark can compare them with what is missing from Kafka.
    error_handle = function(topic, partition_id, queue, index, err, retryable)
      count("async_dropped", index / 2)
      ngx.log(ngx.ERR, "dropped ", index / 2, " records for ", topic, "/", partition_id, ": ", err)
    end,
  }
end

-- brokers: "host:port,host:port"
function _M.configure(options)
  local brokers = {}
  for host, port in options.brokers:gmatch("([^,:]+):(%d+)") do
    brokers[#brokers + 1] = { host = host, port = tonumber(port) }
  end
  assert(#brokers > 0, "no brokers in '" .. options.brokers .. "'")
  options.broker_list = brokers
  settings = options
end

function _M.init_worker()
  async_producer = producer:new(settings.broker_list, producer_config("async"))
end

local function fail(status, code, message)
  ngx.status = status
  ngx.say(cjson.encode({ error = { code = code, message = message } }))
  return ngx.exit(status)
end

local function read_body()
  ngx.req.read_body()
  local body = ngx.req.get_body_data()
  if not body then
    -- Larger than client_body_buffer_size: nginx kept it in a file.
    local path = ngx.req.get_body_file()
    if path then
      local f = io.open(path, "rb")
      if f then body = f:read("*a"); f:close() end
    end
  end
  return body
end

function _M.async(topic)
  local body = read_body()
  if not body or #body == 0 then return fail(400, "empty_body", "the body is the record") end
  local ok, err = async_producer:send(topic, nil, body)
  if not ok then
    count("async_refused")
    return fail(503, "kafka_unavailable", "async producer refused the record: " .. tostring(err))
  end
  ngx.status = 202
  ngx.say('{"accepted":1}')
end

function _M.sync(topic)
  local body = read_body()
  if not body or #body == 0 then return fail(400, "empty_body", "the body is the record") end
  -- The library's sync mode as its README shows it: a producer per request (its send buffer
  -- is per producer, so one shared by concurrent requests would mix their records). Each new
  -- producer has a new client, which fetches the topic's metadata before the first send.
  local p = producer:new(settings.broker_list, producer_config("sync"))
  local offset, err = p:send(topic, nil, body)
  if not offset then
    count("sync_failed")
    return fail(502, "delivery_failed", "Kafka did not take the record: " .. tostring(err))
  end
  ngx.status = 200
  ngx.say(cjson.encode({ topic = topic, offset = tonumber(offset) }))
end

function _M.stats()
  local out = {}
  for _, name in ipairs({ "async_dropped", "async_refused", "sync_failed" }) do
    out[name] = stats:get(name) or 0
  end
  ngx.say(cjson.encode(out))
end

return _M
