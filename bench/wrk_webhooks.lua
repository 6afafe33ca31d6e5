-- wrk script: posts pre-signed webhooks read from a file, one per line: "<signature>\t<body>".
--
--   wrk -t T -c C -d D -s bench/wrk_webhooks.lua URL -- FILE MODE T MARKER_DIR
--
-- Thread i of T takes lines i, i+T, i+2T, ... of FILE.
-- An empty FILE (/dev/null): every request is GET of the URL's path.
-- MODE "cycle": each thread posts its lines round and round until wrk's duration ends.
-- MODE "once": each thread posts each of its lines once; when every one is answered it writes
--   MARKER_DIR/done-<i> ("<unix time> <answered> <refused>") and stops. Until then, a
--   connection with nothing left to post asks GET /healthz, so that it stays busy without
--   sending a webhook twice. The caller stops wrk (SIGINT) once every thread's marker exists.
-- At the end one line "RESULT {json}" gives wrk's counts and latency percentiles.

local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
  int clock_gettime(int clock, bench_timespec *ts);
]]

local function now()
  local ts = ffi.new("bench_timespec")
  ffi.C.clock_gettime(0, ts) -- CLOCK_REALTIME, as Python's time.time()
  return tonumber(ts.tv_sec) + tonumber(ts.tv_nsec) / 1e9
end

local created = 0

function setup(thread)
  thread:set("index", created)
  created = created + 1
end

function init(args)
  local path, threads = args[1], tonumber(args[3])
  mode, marker = args[2], args[4]
  items, pos, answered, refused, finished = {}, 1, 0, 0, false
  local n = 0
  for line in io.lines(path) do
    if n % threads == index then
      local tab = string.find(line, "\t", 1, true)
      items[#items + 1] = { sig = string.sub(line, 1, tab - 1), body = string.sub(line, tab + 1) }
    end
    n = n + 1
  end
end

function request()
  if index == 0 and not verified then
    -- wrk calls the first thread's request() once before the run, only to check what it
    -- returns; that call must not use up a webhook, or "once" would never send it.
    verified = true
    return wrk.format("GET", "/healthz")
  end
  if #items == 0 then
    return wrk.format("GET") -- no file given: the URL's own path (GET /healthz)
  end
  if pos > #items then
    if mode == "once" then
      return wrk.format("GET", "/healthz")
    end
    pos = 1
  end
  local item = items[pos]
  pos = pos + 1
  return wrk.format("POST", "/tiktok-shop/webhooks",
    { ["Authorization"] = item.sig, ["Content-Type"] = "application/json" }, item.body)
end

function response(status, headers, body)
  if mode ~= "once" or finished then
    return
  end
  if string.find(body, '"received"', 1, true) then
    answered = answered + 1
  elseif string.find(body, '"code"', 1, true) then
    answered = answered + 1
    refused = refused + 1
  end
  if answered >= #items then
    finished = true
    local f = io.open(marker .. "/done-" .. index, "w")
    f:write(string.format("%.6f %d %d\n", now(), answered, refused))
    f:close()
    wrk.thread:stop()
  end
end

function done(summary, latency, requests)
  io.write(string.format(
    'RESULT {"requests": %d, "duration_us": %d, "status_errors": %d, "socket_errors": %d, ' ..
    '"p50_us": %d, "p99_us": %d}\n',
    summary.requests, summary.duration, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50), latency:percentile(99)))
end
