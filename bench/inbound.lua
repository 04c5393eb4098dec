-- wrk script for bench/inbound.py: sends a file of pre-signed Twilio webhooks once each, in
-- order, over all of wrk's connections, until -d ends the run or the last answer arrives.
--
--   wrk -t1 -c32 -d15s --timeout 60s -s bench/inbound.lua URL -- REQUESTS_FILE
--
-- REQUESTS_FILE holds one request a line: "<X-Twilio-Signature> <form body>". Run it with one
-- thread (-t1): the order and the counters live in that thread's Lua state. wrk itself only
-- stops at -d, so when every answer is in, the thread stops its loop and sends SIGINT to wrk's
-- main thread, which then reports the true duration. done() prints one `wrk-result` line that
-- bench/inbound.py reads: requests, duration, latency percentiles and answers by status.

local ffi = require("ffi")
ffi.cdef [[
  int getpid(void);
  int kill(int pid, int sig);
]]
local SIGINT = 2
local PARK_MS = 3600 * 1000 -- a connection with nothing left to send waits past the run's end

local requests = {}
local reserved = 0 -- requests promised to a connection by delay(); request() hands them out
sent = 0
answered = 0 -- globals: read back from the thread by done() through thread:get()
statuses = {}
extra = 0 -- requests a reconnect asked for beyond the file (sent as GET /healthz)

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  for line in io.lines(args[1]) do
    local signature, body = line:match("^(%S+) (.*)$")
    requests[#requests + 1] = wrk.format("POST", wrk.path, {
      ["Content-Type"] = "application/x-www-form-urlencoded",
      ["X-Twilio-Signature"] = signature,
    }, body)
  end
end

-- wrk calls delay() once before each request: the place to decide whether there is one.
function delay()
  if reserved < #requests then
    reserved = reserved + 1
    return 0
  end
  return PARK_MS
end

-- Only a reserved request is handed out: wrk also calls request() once before the run, to
-- check the script, and again when it reconnects a connection.
function request()
  if sent < reserved then
    sent = sent + 1
    return requests[sent]
  end
  if reserved > 0 then
    extra = extra + 1
  end
  return wrk.format("GET", "/healthz")
end

function response(status, headers, body)
  answered = answered + 1
  statuses[tostring(status)] = (statuses[tostring(status)] or 0) + 1
  if answered >= #requests + extra then
    wrk.thread:stop()
    ffi.C.kill(ffi.C.getpid(), SIGINT)
  end
end

function done(summary, latency, _)
  local counts, answers = {}, 0
  for _, thread in ipairs(threads) do
    answers = answers + thread:get("answered")
    for status, count in pairs(thread:get("statuses")) do
      counts[status] = (counts[status] or 0) + count
    end
  end
  local parts = {}
  for status, count in pairs(counts) do
    parts[#parts + 1] = string.format("status_%s=%d", status, count)
  end
  io.write(string.format(
    "wrk-result requests=%d sent=%d answered=%d duration_us=%d p50_us=%d p90_us=%d p99_us=%d " ..
    "max_us=%d extra=%d connect_errors=%d read_errors=%d write_errors=%d timeouts=%d %s\n",
    summary.requests, threads[1]:get("sent"), answers, summary.duration, latency:percentile(50),
    latency:percentile(90), latency:percentile(99), latency.max, threads[1]:get("extra"),
    summary.errors.connect, summary.errors.read, summary.errors.write,
    summary.errors.timeout, table.concat(parts, " ")))
end
