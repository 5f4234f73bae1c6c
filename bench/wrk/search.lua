-- wrk -s bench/wrk/search.lua: POST /episodes/search, k = 10, a BENCH_DIM-dim query vector
-- from a pool of 256 built at start per thread (the default answer: items without
-- their embeddings).
-- Environment: BENCH_KEY, BENCH_SESSION, BENCH_DIM.
package.path = "bench/wrk/?.lua;" .. package.path
local c = require("common")

local pool = {}
local i = 0
local threads = 0

-- Runs in wrk's main state: numbers the threads, so each builds its own bodies.
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end

function init(args)
  for j = 1, 256 do
    pool[j] = string.format('{"session_id":"%s","query_vector":%s,"k":10}', c.session,
      c.vector(5000000 + (tid or 1) * 1000 + j))
  end
end

function request()
  i = i % #pool + 1
  return wrk.format("POST", "/episodes/search", c.headers, pool[i])
end

done = c.done
