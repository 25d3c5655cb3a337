-- wrk script of the serving benchmarks (bench/serve_tiles.sh, bench/serve_features.sh):
-- cycles through a fixed list of request paths and prints a JSON summary.
--
--   wrk -t1 -c64 -d30s -s bench/serve_wrk.lua http://127.0.0.1:PORT -- LIST PREFIX SUFFIX [ACCEPT-ENCODING]
--
-- LIST is a file with one item a line (a tile's "z/x/y", or a query string); the path of
-- request i is PREFIX .. item .. SUFFIX. Every request carries `Accept-Encoding:
-- ACCEPT-ENCODING` when that argument is given and not empty. Requests are pre-formatted
-- once, so the script costs wrk one table lookup per request.
--
-- Each wrk thread starts at its own offset in the list and walks it in order, wrapping
-- around. At the end the script writes one line to stdout, `WRK_JSON {...}`, with the
-- duration, requests, bytes read (headers included), error counts and latency
-- percentiles in microseconds; bench/serve_report.py reads it.
--
-- Pitfall: wrk gives every thread its own Lua state; `setup` runs in the main one and
-- passes the thread's index through `thread:set`.

local thread_count = 0

function setup(thread)
   thread:set("thread_index", thread_count)
   thread_count = thread_count + 1
end

local requests_list = {}
local next_index = 0

function init(args)
   local list, prefix, suffix, encoding = args[1], args[2] or "", args[3] or "", args[4]
   if list == nil then
      error("serve_wrk.lua: give the list file after --")
   end
   local headers = {}
   if encoding ~= nil and encoding ~= "" then
      headers["Accept-Encoding"] = encoding
   end
   for line in io.lines(list) do
      if line ~= "" then
         requests_list[#requests_list + 1] = wrk.format("GET", prefix .. line .. suffix, headers)
      end
   end
   if #requests_list == 0 then
      error("serve_wrk.lua: " .. list .. " has no line")
   end
   -- Give each thread its own starting point (thread_index is 0-based; 7919 is prime).
   local index = tonumber(thread_index) or 0
   next_index = (index * 7919) % #requests_list
end

function request()
   next_index = next_index % #requests_list + 1
   return requests_list[next_index]
end

function done(summary, latency, requests)
   local e = summary.errors
   local out = string.format(
      '{"duration_us": %d, "requests": %d, "bytes": %d, '
         .. '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, '
         .. '"latency_us": {"min": %d, "mean": %.1f, "max": %d, "p50": %d, "p75": %d, "p90": %d, "p99": %d, "p999": %d}}',
      summary.duration, summary.requests, summary.bytes,
      e.connect, e.read, e.write, e.status, e.timeout,
      latency.min, latency.mean, latency.max,
      latency:percentile(50), latency:percentile(75), latency:percentile(90),
      latency:percentile(99), latency:percentile(99.9))
   io.write("WRK_JSON " .. out .. "\n")
end
