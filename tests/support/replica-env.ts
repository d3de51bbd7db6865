import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';

/**
 * Imported first by tests/integration/replicas.test.ts: DATABASE_REPLICA_URLS must be in the
 * environment before anything reads the configuration. It names two "replicas": a database of the
 * test's own reached through a TCP proxy the test starts on `proxyPort` (so that the test can cut
 * it), and a port nothing listens on (connections refused).
 */

/** Free TCP ports on 127.0.0.1, found now: the configuration is read before any test code can await. */
function freePortsNow(count: number): number[] {
  const script = `const net=require('net');const ports=[];const servers=[];let n=${count};
for(let i=0;i<n;i++){const s=net.createServer();servers.push(s);s.listen(0,'127.0.0.1',()=>{ports.push(s.address().port);if(ports.length===n){servers.forEach(x=>x.close());console.log(ports.join(','))}})}`;
  return execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' }).trim().split(',').map(Number);
}

const admin = process.env.TEST_PG_ADMIN_URL ?? '';
if (!admin) throw new Error('TEST_PG_ADMIN_URL is not set: run the tests through jest (global setup starts PostgreSQL)');
const [proxyPort, refusingPort] = freePortsNow(2);
const adminUrl = new URL(admin);

export const replicaEnv = {
  /** The database that plays the replica: the same schema as the primary, rows of its own. */
  database: `replica_${process.env.JEST_WORKER_ID ?? '0'}_${randomBytes(4).toString('hex')}`,
  proxyPort,
  /** Where the proxy forwards to: the PostgreSQL server of the tests. */
  target: { host: adminUrl.hostname, port: Number(adminUrl.port || 5432) },
};

function urlOn(port: number, database: string): string {
  const url = new URL(admin);
  url.hostname = '127.0.0.1';
  url.port = String(port);
  url.pathname = `/${database}`;
  return url.toString();
}

process.env.DATABASE_REPLICA_URLS = `${urlOn(proxyPort, replicaEnv.database)},${urlOn(refusingPort, 'nothing')}`;
