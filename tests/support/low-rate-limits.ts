// Imported first by rate-limit tests: config is read once per test file, on first use.
process.env.AUTH_RATE_LIMIT_MAX = '3';
process.env.RATE_LIMIT_MAX = '10';
process.env.REDIS_PREFIX = `rl${process.pid}${Date.now().toString(36)}`;
