import client from 'prom-client';

export const registry = new client.Registry();
client.collectDefaultMetrics({ register: registry });

const requestCount = new client.Counter({
  name: 'http_requests_total',
  help: 'HTTP requests by method, route template and status',
  labelNames: ['method', 'route', 'status'] as const,
  registers: [registry],
});

const requestDuration = new client.Histogram({
  name: 'http_request_duration_seconds',
  help: 'HTTP request latency by method and route template',
  labelNames: ['method', 'route'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  registers: [registry],
});

export function observeRequest(method: string, route: string, status: number, seconds: number): void {
  requestCount.inc({ method, route, status: String(status) });
  requestDuration.observe({ method, route }, seconds);
}

/** Queue depths are read when /metrics is scraped, from whatever job driver runs. */
let queueDepthReader: (() => Promise<Record<string, Record<string, number>>>) | undefined;

export function setQueueDepthReader(reader: typeof queueDepthReader): void {
  queueDepthReader = reader;
}

new client.Gauge({
  name: 'job_queue_depth',
  help: 'Jobs per queue and state',
  labelNames: ['queue', 'state'] as const,
  registers: [registry],
  async collect() {
    this.reset();
    if (!queueDepthReader) return;
    const depths = await queueDepthReader().catch(() => ({}) as Record<string, Record<string, number>>);
    for (const [queue, states] of Object.entries(depths)) {
      for (const [state, count] of Object.entries(states)) this.set({ queue, state }, count);
    }
  },
});
