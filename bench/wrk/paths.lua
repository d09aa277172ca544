-- wrk script of the bench runner (service scenarios): each thread cycles through the request
-- paths listed one per line in the file given after "--", starting at a different offset; an
-- optional second argument is a pause in milliseconds before each request (a steady load rather
-- than a saturating one). done() prints one line "WRKJSON {...}" with the latency percentiles in
-- microseconds, the request count, the duration, the bytes read and the errors, which the runner
-- parses.

local threads = {}
local counter = 0

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

local paths = {}
local i = 1
local pause = 0

function init(args)
  local f = assert(io.open(args[1], "r"))
  for line in f:lines() do
    if line ~= "" then
      table.insert(paths, line)
    end
  end
  f:close()
  assert(#paths > 0, "no paths in " .. args[1])
  pause = tonumber(args[2] or "0") or 0
  i = (id * 7919) % #paths + 1
  if pause > 0 then
    -- wrk paces requests only when the script has a delay function, checked after init.
    delay = function() return pause end
  end
end

function request()
  local p = paths[i]
  i = i % #paths + 1
  return wrk.format("GET", p)
end


function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_us":%d,"bytes":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,"mean_us":%.1f}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
end
