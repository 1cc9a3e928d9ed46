-- wrk script: GET /v1/assign for a rotating set of user ids, with the sdk key.
local counter = 0
local key = os.getenv("CAUSEWAY_KEY") or ""
request = function()
  counter = counter + 1
  local path = "/v1/assign?experiment=checkout&user=user-" .. (counter % 1000003)
  return wrk.format("GET", path, {["Authorization"] = "Bearer " .. key})
end
