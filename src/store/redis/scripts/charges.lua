-- The head of the hot-path scripts (create.lua, verify.lua): counts a call's
-- usage and charges its limits before the script's own step, in the same
-- atomic run, so that one round trip does all of it on a single Redis.
--
-- KEYS[1] is the challenge, KEYS[2..1+L] the limit counters, KEYS[2+L] the
-- usage hash when U > 0. ARGV[1] L, ARGV[2] U, ARGV[3] the usage hash's
-- lifetime in ms, ARGV[4..3+2L] each limit's points and window in ms, then the
-- U usage counter names. The script's own arguments start at ARGV[A + 1].
--
-- Usage is counted first: a refused call is still a call. Limits are charged
-- in order, each a fixed window as rate-limiter-flexible's RateLimiterRedis
-- keeps it (a counter created at 0 with the window as its expiry, then INCR);
-- the first one over its limit ends the script with {'refused', index, ms
-- until the window ends}, and nothing after it is charged or changed. NEAR
-- collects the limits this call brought to 80 % of their points (once per
-- window each), for the script's own reply to report.
local NEAR = {}
local L = tonumber(ARGV[1])
local U = tonumber(ARGV[2])
local A = 3 + 2 * L + U
if U > 0 then
  local usage = KEYS[2 + L]
  for i = 1, U do redis.call('HINCRBY', usage, ARGV[3 + 2 * L + i], 1) end
  redis.call('PEXPIRE', usage, ARGV[3])
end
for i = 1, L do
  local key = KEYS[1 + i]
  local window = ARGV[3 + 2 * i]
  redis.call('SET', key, 0, 'PX', window, 'NX')
  local consumed = redis.call('INCR', key)
  local ttl = redis.call('PTTL', key)
  if ttl < 0 then
    redis.call('PEXPIRE', key, window)
    ttl = tonumber(window)
  end
  if consumed > tonumber(ARGV[2 + 2 * i]) then return {'refused', i, ttl} end
  if consumed == math.ceil(tonumber(ARGV[2 + 2 * i]) * 0.8) then NEAR[#NEAR + 1] = i end
end
