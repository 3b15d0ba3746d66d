-- KEYS[1] outbox list. ARGV[1] entry JSON, ARGV[2] max entries, ARGV[3] retention ms. */
redis.call('LPUSH', KEYS[1], ARGV[1])
redis.call('LTRIM', KEYS[1], 0, tonumber(ARGV[2]) - 1)
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
