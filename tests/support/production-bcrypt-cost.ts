// Imported first by tests of hashing cost: config is read once per test file, on first use.
// 12 is the production default; the factory's users keep their cost-4 hashes, as accounts do
// after BCRYPT_ROUNDS is raised.
process.env.BCRYPT_ROUNDS = '12';
