-- wrk script of `npm run bench:token`: GET /v1/connections/<random seeded id>/token?min_ttl=60.
-- Usage: wrk ... -s bench/wrk-token.lua <base url> -- <ids file> [bearer key]
-- Prints one line of JSON at the end: requests, seconds, errors, latency percentiles (ms).
local ids = {}
local auth = nil

function init(args)
  for line in io.lines(args[1]) do
    if #line > 0 then ids[#ids + 1] = "/v1/connections/" .. line .. "/token?min_ttl=60" end
  end
  if args[2] and #args[2] > 0 then auth = "Bearer " .. args[2] end
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16) % 100000)
end

function request()
  local headers = {}
  if auth then headers["Authorization"] = auth end
  return wrk.format("GET", ids[math.random(#ids)], headers)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests":%d,"micros":%d,"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latencyMs":{"p50":%.3f,"p90":%.3f,"p99":%.3f,"max":%.3f,"mean":%.3f}}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, latency.mean / 1000))
end
