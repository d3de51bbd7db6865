// Imported first by tests of the strict limits: config is read once per test file, on first use.
// The limit is above MAILS_PER_ADDRESS_PER_HOUR so that both can be seen, and X-Forwarded-For is
// read as the client address so that one test can speak from many addresses.
process.env.AUTH_RATE_LIMIT_MAX = '7';
process.env.TRUST_PROXY = '1';
