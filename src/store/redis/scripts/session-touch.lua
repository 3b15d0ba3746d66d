-- A console session's use. KEYS[1] session hash. ARGV[1] now ms, ARGV[2] idle ms.
-- Returns the record, its expiry moved to min(now + idle, absolute end), or
-- false when the session is unknown or past its absolute end (then deleted).
local found = redis.call('HMGET', KEYS[1], 'record', 'abs')
if not found[1] then return false end
local left = tonumber(found[2]) - tonumber(ARGV[1])
if left <= 0 then
  redis.call('DEL', KEYS[1])
  return false
end
redis.call('PEXPIRE', KEYS[1], math.min(left, tonumber(ARGV[2])))
return found[1]
