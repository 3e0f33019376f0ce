-- wrk: GET with the bearer token in $TOKEN (empty: anonymous).
function init(args)
  token = os.getenv("TOKEN") or ""
end
function request()
  local headers = {}
  if token ~= "" then headers["Authorization"] = "Bearer " .. token end
  return wrk.format("GET", nil, headers)
end
