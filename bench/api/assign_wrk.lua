-- wrk script: GET /v1/assign for a rotating set of user ids, with the sdk key.
-- Headers given with -H (e.g. "Connection: close") are sent too.
local counter = 0
local key = os.getenv("CAUSEWAY_KEY") or ""
local headers = {}
for name, value in pairs(wrk.headers) do headers[name] = value end
headers["Authorization"] = "Bearer " .. key
request = function()
  counter = counter + 1
  local path = "/v1/assign?experiment=checkout&user=user-" .. (counter % 1000003)
  return wrk.format("GET", path, headers)
end
