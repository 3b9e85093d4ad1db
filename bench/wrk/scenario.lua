-- One measured operation for wrk (`make bench`, driven by bench/wrk_load.py).
--
-- Configured through the environment, so no token ever appears on a command line:
--   BENCH_METHOD, BENCH_PATH     the request line (path with its prefix and query)
--   BENCH_AUTHORIZATION          the Authorization header value
--   BENCH_ORGANIZATION           the X-Organization-Id header value
--   BENCH_PIPELINE               createLead only: the pipeline the new leads go to
--   BENCH_RUN                    a run id: Idempotency-Keys are unique across runs
-- A POST gets a fresh body and a fresh Idempotency-Key per request
-- ("<run>-<thread>-<n>"), so every create is a first call, never a replay.
-- done() prints one line "WRKJSON {...}" that wrk_load.py reads.

local method = os.getenv("BENCH_METHOD") or "GET"
local path = os.getenv("BENCH_PATH") or "/"
local pipeline = os.getenv("BENCH_PIPELINE") or ""
local run = os.getenv("BENCH_RUN") or "run"
local headers = {
  ["Authorization"] = os.getenv("BENCH_AUTHORIZATION") or "",
  ["X-Organization-Id"] = os.getenv("BENCH_ORGANIZATION") or "",
  ["Accept"] = "application/json",
}

local next_thread = 0
function setup(thread)
  next_thread = next_thread + 1
  thread:set("thread_id", next_thread)
end

local fixed = nil
local counter = 0

function init(args)
  if method == "GET" then
    fixed = wrk.format(method, path, headers, nil)
  else
    headers["Content-Type"] = "application/json"
  end
end

function request()
  if fixed ~= nil then
    return fixed
  end
  counter = counter + 1
  local n = string.format("%d-%d", thread_id, counter)
  headers["Idempotency-Key"] = string.format("%s-%s", run, n)
  local body = string.format(
    '{"contact_name":"Bench Lead %s","company_name":"Bench Inc","pipeline_id":"%s",'
      .. '"email":"bench%s@example.com","tags":["bench"],"value_cents":100000}',
    n, pipeline, n)
  return wrk.format(method, path, headers, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_us":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,'
      .. '"errors_connect":%d,"errors_read":%d,"errors_write":%d,"errors_timeout":%d,"non_2xx_3xx":%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, e.connect, e.read, e.write, e.timeout, e.status))
end
