-- wrk: POST propose_transfer, 1 t of CN-SH/CEA/2020 from TR-SH-ALPHA to TR-JS-BETA (trusted),
-- a fresh Idempotency-Key and transfer id per request. Thread t proposes P<run>-<t>-1, -2, ...;
-- done() writes each thread's count to $COUNTS so that approve.lua approves exactly those.
local threads, counter = {}, 0
function setup(thread)
  counter = counter + 1
  thread:set("tid", counter)
  table.insert(threads, thread)
end
function init(args)
  n = 0
  run = os.getenv("RUN") or "0"
  token = os.getenv("TOKEN")
end
function request()
  n = n + 1
  local id = "P" .. run .. "-" .. tid .. "-" .. n
  local body = '{"command":{"type":"propose_transfer","transfer":"' .. id ..
    '","from":"TR-SH-ALPHA","to":"TR-JS-BETA","class":"CN-SH/CEA/2020","quantity":1}}'
  return wrk.format("POST", "/v1/transactions", {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. token,
    ["Idempotency-Key"] = "k" .. id,
  }, body)
end
function done(summary, latency, requests)
  local f = io.open(os.getenv("COUNTS"), "w")
  for _, t in ipairs(threads) do
    f:write(t:get("tid") .. " " .. t:get("n") .. "\n")
  end
  f:close()
end
