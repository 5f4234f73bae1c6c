-- Shared by put.lua and search.lua (wrk 4.1, LuaJIT): a pool of request bodies built once per
-- thread from a fixed seed (so every run sends the same vectors), and a done() that prints one
-- machine-readable line that scripts/bench-http.sh parses:
--   BENCH requests=N seconds=S rps=R p50_ms=A p99_ms=B non2xx=E socket_errors=F
local M = {}

M.dim = tonumber(os.getenv("BENCH_DIM") or "384")
M.session = os.getenv("BENCH_SESSION") or "bench"
M.key = os.getenv("BENCH_KEY") or ""

-- A deterministic unit vector (LCG), as a JSON array text.
function M.vector(seed)
  local x = seed * 7919 + 17
  local v, n = {}, 0
  for d = 1, M.dim do
    x = (x * 1103515245 + 12345) % 2147483648
    local f = x / 2147483648 * 2 - 1
    v[d] = f
    n = n + f * f
  end
  n = math.sqrt(n)
  local parts = {}
  for d = 1, M.dim do parts[d] = string.format("%.6f", v[d] / n) end
  return "[" .. table.concat(parts, ",") .. "]"
end

M.headers = { ["Content-Type"] = "application/json", ["X-API-Key"] = M.key }

function M.done(summary, latency, requests)
  local s = summary.duration / 1e6
  local e = summary.errors
  io.write(string.format(
    "BENCH requests=%d seconds=%.3f rps=%.1f p50_ms=%.3f p99_ms=%.3f non2xx=%d socket_errors=%d\n",
    summary.requests, s, summary.requests / s, latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, e.status, e.connect + e.read + e.write + e.timeout))
end

return M
