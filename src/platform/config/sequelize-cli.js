// Connection settings for sequelize-cli (see .sequelizerc), from the same variables as the app.
// eslint-disable-next-line @typescript-eslint/no-require-imports
require('dotenv').config({ quiet: true });

function fromEnv() {
  if (process.env.DATABASE_URL) return { url: process.env.DATABASE_URL, dialect: 'postgres' };
  return {
    host: process.env.DB_HOST,
    port: Number(process.env.DB_PORT || 5432),
    database: process.env.DB_NAME,
    username: process.env.DB_USER,
    password: process.env.DB_PASSWORD,
    dialect: 'postgres',
  };
}

module.exports = { development: fromEnv(), test: fromEnv(), production: fromEnv() };
