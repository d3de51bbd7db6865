import { TcpProxy } from '../support/tcp-proxy';
import { useTestDatabase } from '../support/database';

const describeRedis = process.env.REDIS_URL ? describe : describe.skip;

describeRedis('outbox while Redis is down', () => {
  useTestDatabase();
  let proxy: TcpProxy;
  let jobs: typeof import('../../src/jobs');
  let redis: typeof import('../../src/platform/redis');

  beforeAll(async () => {
    const target = new URL(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
    proxy = new TcpProxy(target.hostname, Number(target.port || 6379));
    const port = await proxy.start();
    // Config is read on first use: point REDIS_URL at the proxy before the jobs are loaded.
    process.env.REDIS_URL = `redis://127.0.0.1:${port}`;
    jobs = await import('../../src/jobs');
    redis = await import('../../src/platform/redis');
  });

  afterAll(async () => {
    await jobs.closeJobs();
    await redis.closeRedis();
    await proxy.stop();
  });

  it('keeps a job recorded while Redis is unreachable, and delivers it once Redis is back', async () => {
    const seen: string[] = [];
    jobs.initJobs({ handlers: { 'email.send': async (job) => void seen.push(job.to) } });
    await jobs.startJobProcessing();
    expect(jobs.getJobs().kind).toBe('bullmq');

    const port = proxy.port;
    await proxy.stop();
    // The change commits whatever Redis does: the mail waits in the outbox.
    await jobs.recordJob('email.send', { template: 'welcome', to: 'while-down@outbox.test', data: {} });
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(seen).toEqual([]);

    await proxy.start(port);
    const deadline = Date.now() + 45_000;
    while (seen.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 200));
    expect(seen).toEqual(['while-down@outbox.test']);
  }, 60_000);
});
