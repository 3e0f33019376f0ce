-- wrk: POST approve_transfer for every transfer propose.lua proposed in the same RUN, thread by
-- thread; a thread stops when its transfers are all approved.
local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("tid", counter)
  for line in io.lines(os.getenv("COUNTS")) do
    local t, c = line:match("(%d+) (%d+)")
    if tonumber(t) == counter then thread:set("limit", tonumber(c)) end
  end
end
function init(args)
  n = 0
  run = os.getenv("RUN") or "0"
  token = os.getenv("TOKEN")
end
function request()
  n = n + 1
  if n > limit then
    wrk.thread:stop()
    n = limit
  end
  local id = "P" .. run .. "-" .. tid .. "-" .. n
  return wrk.format("POST", "/v1/transactions", {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. token,
    ["Idempotency-Key"] = "a" .. id,
  }, '{"command":{"type":"approve_transfer","transfer":"' .. id .. '"}}')
end
