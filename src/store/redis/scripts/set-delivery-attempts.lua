-- KEYS[1] challenge. ARGV[1] the latest send's delivery attempts as JSON,
-- ARGV[2] its accepted deliveries ({channel, deliveryId}) as JSON, added to
-- every earlier send's (at most 50 kept). Writes only to an existing key.
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('HSET', KEYS[1], 'delivery_attempts', ARGV[1])
  local accepted = cjson.decode(ARGV[2])
  if #accepted > 0 then
    local stored = redis.call('HGET', KEYS[1], 'sent_deliveries')
    local sent = {}
    if stored and stored ~= '' then sent = cjson.decode(stored) end
    for _, d in ipairs(accepted) do
      if #sent < 50 then table.insert(sent, d) end
    end
    redis.call('HSET', KEYS[1], 'sent_deliveries', cjson.encode(sent))
  end
end
return 1
