import type { MigrationFn } from '../src/platform/db/migrator';

/**
 * Every change to what a signed-in request is checked against (a session revoked or deleted; a
 * user's role, status, name or email changed; a user deleted) sends the user's id on the channel
 * `auth_changed` when its transaction commits. API processes cache the check of a session for a
 * second and drop a user's entries on that notification, so a revocation counts in every process
 * as soon as it commits, whichever code or person made it.
 */
export const up: MigrationFn = async ({ context: { sequelize } }) => {
  await sequelize.transaction(async (transaction) => {
    const run = (sql: string) => sequelize.query(sql, { transaction });
    await run(`CREATE FUNCTION notify_auth_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_TABLE_NAME = 'users' THEN
    PERFORM pg_notify('auth_changed', OLD.id::text);
  ELSE
    PERFORM pg_notify('auth_changed', OLD.user_id::text);
  END IF;
  RETURN NULL;
END
$$`);
    await run(`CREATE TRIGGER users_auth_changed AFTER UPDATE ON users FOR EACH ROW
  WHEN (OLD.role IS DISTINCT FROM NEW.role OR OLD.status IS DISTINCT FROM NEW.status
        OR OLD.name IS DISTINCT FROM NEW.name OR OLD.email IS DISTINCT FROM NEW.email)
  EXECUTE FUNCTION notify_auth_changed()`);
    await run('CREATE TRIGGER users_auth_deleted AFTER DELETE ON users FOR EACH ROW EXECUTE FUNCTION notify_auth_changed()');
    await run(`CREATE TRIGGER user_sessions_auth_changed AFTER UPDATE ON user_sessions FOR EACH ROW
  WHEN (OLD.revoked_at IS DISTINCT FROM NEW.revoked_at OR OLD.user_id IS DISTINCT FROM NEW.user_id)
  EXECUTE FUNCTION notify_auth_changed()`);
    await run('CREATE TRIGGER user_sessions_auth_deleted AFTER DELETE ON user_sessions FOR EACH ROW EXECUTE FUNCTION notify_auth_changed()');
  });
};

export const down: MigrationFn = async ({ context: { sequelize } }) => {
  await sequelize.transaction(async (transaction) => {
    const run = (sql: string) => sequelize.query(sql, { transaction });
    await run('DROP TRIGGER user_sessions_auth_deleted ON user_sessions');
    await run('DROP TRIGGER user_sessions_auth_changed ON user_sessions');
    await run('DROP TRIGGER users_auth_deleted ON users');
    await run('DROP TRIGGER users_auth_changed ON users');
    await run('DROP FUNCTION notify_auth_changed()');
  });
};
