-- Gives back one hit charged by limit.lua to a call that another limit then
-- refused. KEYS[1] counter. Only an existing counter is changed, so no key is
-- ever left without its expiry.
if redis.call('EXISTS', KEYS[1]) == 1 then return redis.call('DECR', KEYS[1]) end
return 0
