-- KEYS[1] challenge. ARGV[1] delivery attempts as JSON. Writes only to an existing key. */
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('HSET', KEYS[1], 'delivery_attempts', ARGV[1])
end
return 1
