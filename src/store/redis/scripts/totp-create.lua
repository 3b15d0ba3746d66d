-- KEYS[1] factor hash. ARGV[1] expire-at ms, ARGV[2..] field, value pairs. */
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
redis.call('PEXPIREAT', KEYS[1], ARGV[1])
return 1
