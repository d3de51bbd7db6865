import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import { parse } from 'yaml';
import { createApp } from '../../src/app';
import { loadConfig } from '../../src/platform/config';
import { closeRedis } from '../../src/platform/redis';
import { publishedOpenApiDocument } from '../../src/platform/http/health.routes';

/**
 * The container and Railway files are read, never run, here (no Docker daemon in CI): this holds
 * them to the code they start. docker-compose.yml: PostgreSQL, Redis, two API processes, a worker
 * and a proxy from the repository's Dockerfile; railway.json and deploy/railway.*.json: commands
 * and health checks that exist.
 */

const root = path.resolve(__dirname, '..', '..');
const read = (file: string) => fs.readFileSync(path.join(root, file), 'utf8');
const exists = (file: string) => fs.existsSync(path.join(root, file));

type Service = {
  image?: string;
  build?: string | { context?: string; dockerfile?: string };
  command?: string | string[];
  environment?: Record<string, string | number | boolean | null> | string[];
  env_file?: string | Array<string | { path: string }>;
  depends_on?: string[] | Record<string, { condition?: string }>;
  healthcheck?: { test?: string | string[]; disable?: boolean };
  ports?: Array<string | { published?: string | number; target?: number }>;
  volumes?: Array<string | { source?: string; target?: string }>;
  restart?: string;
};

// Compose files use YAML merge keys (`<<: *app`), which YAML 1.2 parsers take only when asked.
const compose = parse(read('docker-compose.yml'), { merge: true }) as { services: Record<string, Service>; volumes?: Record<string, unknown> };
const services = compose.services;
const packageJson = JSON.parse(read('package.json')) as { scripts: Record<string, string> };

/** The .env a user writes as docs/deployment.md and the header of docker-compose.yml say. */
const dotEnv: Record<string, string> = {
  POSTGRES_PASSWORD: randomBytes(24).toString('hex'),
  JWT_SECRET: randomBytes(48).toString('base64'),
  JWT_REFRESH_SECRET: randomBytes(48).toString('base64'),
};

/** Compose's interpolation: ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error}, ${VAR?error}, $$. */
function interpolate(value: string, env: Record<string, string>): string {
  return value.replace(/\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}/g, (whole, name: string, op?: string, arg?: string) => {
    if (whole === '$$') return '$';
    const current = env[name];
    const unset = op?.startsWith(':') ? !current : current === undefined;
    if (op === ':-' || op === '-') return unset ? (arg ?? '') : current;
    if (op === ':?' || op === '?') {
      if (unset) throw new Error(`${name}: ${arg ?? 'required'}`);
      return current;
    }
    return current ?? '';
  });
}

function environmentOf(service: Service, env: Record<string, string> = dotEnv): Record<string, string> {
  const raw = service.environment ?? {};
  const entries = Array.isArray(raw)
    ? raw.map((line) => {
        const at = line.indexOf('=');
        return [line.slice(0, at), line.slice(at + 1)] as const;
      })
    : Object.entries(raw).map(([key, value]) => [key, value === null ? '' : String(value)] as const);
  return Object.fromEntries(entries.map(([key, value]) => [key, interpolate(value, env)]));
}

/** What the process in the container sees: the env_file (.env), then `environment:` over it. */
function containerEnvironment(service: Service): Record<string, string> {
  const files = service.env_file === undefined ? [] : [service.env_file].flat().map((entry) => (typeof entry === 'string' ? entry : entry.path));
  const fromFiles = files.includes('.env') ? dotEnv : {};
  return { ...fromFiles, ...environmentOf(service) };
}

function words(command: string | string[] | undefined): string[] {
  if (command === undefined) return [];
  return Array.isArray(command) ? command.map(String) : command.trim().split(/\s+/);
}

/** The compiled entry point a `node dist/….js` command runs, traced back to its TypeScript source. */
function sourceOf(command: string | string[] | undefined): string | undefined {
  const [program, ...rest] = words(command);
  // node's own flags (the heap budget) come before the script.
  const script = rest.find((word) => !word.startsWith('-'));
  if (program !== 'node' || !script) return undefined;
  const { compilerOptions } = JSON.parse(read('tsconfig.json')) as { compilerOptions: { outDir: string; rootDir: string } };
  const outDir = path.normalize(compilerOptions.outDir);
  const relative = path.relative(outDir, path.normalize(script));
  if (relative.startsWith('..')) return undefined;
  return path.join(compilerOptions.rootDir, relative).replace(/\.js$/, '.ts');
}

/** The TypeScript source an npm script runs through tsx (`tsx src/cli/worker.ts`). */
function scriptSource(name: string): string | undefined {
  return /\btsx\s+(\S+\.ts)\b/.exec(packageJson.scripts[name] ?? '')?.[1];
}

function buildsRepositoryDockerfile(service: Service): boolean {
  const build = typeof service.build === 'string' ? { context: service.build } : service.build;
  if (!build) return false;
  const context = path.resolve(root, build.context ?? '.');
  const dockerfile = path.resolve(context, build.dockerfile ?? 'Dockerfile');
  return context === root && dockerfile === path.join(root, 'Dockerfile');
}

const dockerfile = read('Dockerfile');
/** The last stage of the Dockerfile: what runs. */
const runtimeStage = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
const imageCommand = JSON.parse(/^CMD\s+(\[.*\])\s*$/m.exec(runtimeStage)?.[1] ?? '[]') as string[];

/** The command a service runs: its own, or the image's CMD. */
function commandOf(service: Service): string[] {
  return service.command === undefined ? imageCommand : words(service.command);
}

const serverSource = sourceOf(packageJson.scripts.start);
const workerSource = scriptSource('worker');
const apiServices = Object.keys(services).filter((name) => sourceOf(commandOf(services[name])) === serverSource && services[name].build !== undefined);

function hostOf(url: string): { hostname: string; port: string } {
  const parsed = new URL(url);
  return { hostname: parsed.hostname, port: parsed.port };
}

describe('docker-compose.yml', () => {
  it('has PostgreSQL, Redis, two API processes, a worker and a proxy', () => {
    for (const name of ['postgres', 'redis', 'api1', 'api2', 'worker', 'proxy']) expect(services[name]).toBeDefined();
    expect(apiServices.sort()).toEqual(['api1', 'api2']);
  });

  it('takes PostgreSQL, Redis and the proxy from their official images, and builds on the official node image', () => {
    expect(services.postgres.image).toMatch(/^postgres:\d+/);
    expect(services.redis.image).toMatch(/^redis:\d+/);
    expect(services.proxy.image).toMatch(/^(nginx|haproxy):\d+/);
    const bases = [...dockerfile.matchAll(/^FROM\s+(\S+)/gm)].map((match) => match[1]);
    expect(bases.length).toBeGreaterThanOrEqual(2);
    const nodeVersion = /^ARG NODE_VERSION=(\d+)/m.exec(dockerfile)?.[1];
    for (const base of bases) expect(base.replace('${NODE_VERSION}', nodeVersion ?? '')).toMatch(/^node:\d+-(bookworm|trixie)-slim\b/);
  });

  it('builds the API processes, the worker and the migration step from this repository’s Dockerfile', () => {
    for (const name of ['api1', 'api2', 'worker', 'migrate']) {
      expect({ name, builds: buildsRepositoryDockerfile(services[name]) }).toEqual({ name, builds: true });
    }
  });

  it('runs the server in the API services and `npm run worker`’s entry point, compiled, in the worker', () => {
    expect(serverSource).toBe(path.join('src', 'server.ts'));
    expect(exists(serverSource!)).toBe(true);
    for (const name of apiServices) expect(sourceOf(commandOf(services[name]))).toBe(serverSource);

    expect(workerSource).toBe('src/cli/worker.ts');
    expect(sourceOf(commandOf(services.worker))).toBe(path.normalize(workerSource!));
    expect(sourceOf(commandOf(services.migrate))).toBe(path.normalize(scriptSource('migrate')!));
    expect(words(services.migrate.command).slice(2)).toEqual(['up']);
    // Compiled code only: the image has no TypeScript sources and no tsx run.
    for (const name of [...apiServices, 'worker', 'migrate']) expect(commandOf(services[name])[0]).toBe('node');
  });

  it('points every app container at the compose PostgreSQL and Redis, with the jobs in the worker only', () => {
    const postgresEnv = environmentOf(services.postgres);
    for (const name of [...apiServices, 'worker', 'migrate']) {
      const env = containerEnvironment(services[name]);
      const database = new URL(env.DATABASE_URL);
      expect({ name, host: database.hostname, port: database.port || '5432' }).toEqual({ name, host: 'postgres', port: '5432' });
      expect(decodeURIComponent(database.username)).toBe(postgresEnv.POSTGRES_USER);
      expect(decodeURIComponent(database.password)).toBe(postgresEnv.POSTGRES_PASSWORD);
      expect(database.pathname).toBe(`/${postgresEnv.POSTGRES_DB}`);
      expect({ name, ...hostOf(env.REDIS_URL) }).toEqual({ name, hostname: 'redis', port: '6379' });
      expect(env.NODE_ENV).toBe('production');
    }
    for (const name of apiServices) expect(containerEnvironment(services[name]).JOBS_IN_API).toBe('false');
  });

  it('gives every app container a configuration that production accepts, from the documented .env', () => {
    for (const name of [...apiServices, 'worker', 'migrate']) {
      const settings = loadConfig(containerEnvironment(services[name]));
      expect(settings.isProduction).toBe(true);
      expect(settings.redisUrl).toBeDefined();
      expect(settings.db.url).toContain('@postgres:5432/');
    }
    for (const name of apiServices) {
      const settings = loadConfig(containerEnvironment(services[name]));
      expect(settings.jobsInApi).toBe(false);
      // One proxy in front of them.
      expect(settings.trustProxy).toBe(1);
    }
  });

  it('holds no secret itself: the passwords and JWT secrets come from .env, and compose stops without them', () => {
    for (const variable of ['JWT_SECRET', 'JWT_REFRESH_SECRET']) {
      const raw = (services.api1.environment as Record<string, string>)[variable];
      expect(raw).toMatch(new RegExp(`^\\$\\{${variable}:\\?.+\\}$`));
    }
    expect((services.postgres.environment as Record<string, string>).POSTGRES_PASSWORD).toMatch(/^\$\{POSTGRES_PASSWORD:\?.+\}$/);
    for (const missing of Object.keys(dotEnv)) {
      const partial = Object.fromEntries(Object.entries(dotEnv).filter(([key]) => key !== missing));
      expect(() => environmentOf(services.api1, partial)).toThrow(missing);
    }
  });

  it('starts each process after what it needs is healthy, and the apps after the migrations', () => {
    const conditions = (service: Service) => (Array.isArray(service.depends_on) ? {} : (service.depends_on ?? {}));
    for (const name of [...apiServices, 'worker']) {
      expect(conditions(services[name])).toMatchObject({
        postgres: { condition: 'service_healthy' },
        redis: { condition: 'service_healthy' },
        migrate: { condition: 'service_completed_successfully' },
      });
    }
    expect(conditions(services.migrate)).toMatchObject({ postgres: { condition: 'service_healthy' } });
    expect(services.migrate.restart).toBe('no');
    for (const name of apiServices) expect(conditions(services.proxy)[name]).toEqual({ condition: 'service_healthy' });

    expect(words(services.postgres.healthcheck?.test).join(' ')).toContain('pg_isready');
    expect(words(services.redis.healthcheck?.test).join(' ')).toContain('redis-cli ping');
    // The API services keep the image's /health check; the worker serves no HTTP.
    for (const name of apiServices) expect(services[name].healthcheck?.disable).not.toBe(true);
    expect(services.worker.healthcheck?.disable).toBe(true);
  });

  it('keeps PostgreSQL, Redis and the uploads on named volumes', () => {
    const targets = (service: Service) =>
      (service.volumes ?? []).map((volume) => (typeof volume === 'string' ? volume.split(':')[1] : (volume.target ?? '')));
    const major = Number(/^postgres:(\d+)/.exec(services.postgres.image ?? '')?.[1]);
    // From PostgreSQL 18 the official image keeps PGDATA in /var/lib/postgresql/<major>/docker.
    expect(targets(services.postgres)).toContain(major >= 18 ? '/var/lib/postgresql' : '/var/lib/postgresql/data');
    expect(targets(services.redis)).toContain('/data');
    for (const name of [...apiServices, 'worker']) {
      const dataDir = containerEnvironment(services[name]).DATA_DIR;
      expect(targets(services[name])).toContain(dataDir);
    }
    expect(Object.keys(compose.volumes ?? {})).toEqual(expect.arrayContaining(['pg-data', 'redis-data', 'app-data']));
  });

  describe('the proxy', () => {
    const mount = (services.proxy.volumes ?? [])
      .map((volume) => (typeof volume === 'string' ? volume.split(':') : [volume.source ?? '', volume.target ?? '']))
      .find(([, target]) => target === '/etc/nginx/nginx.conf');
    const conf = mount ? read(mount[0]).replace(/#.*$/gm, '') : '';

    it('is published on port 8080 with its configuration from deploy/', () => {
      expect(services.proxy.ports?.map(String)).toContain('8080:80');
      expect(mount?.[0]).toBe('./deploy/nginx.conf');
    });

    it('spreads requests over both API services, on the port they listen on', () => {
      const pass = /proxy_pass\s+http:\/\/([\w-]+)\s*;/.exec(conf)?.[1];
      expect(pass).toBeDefined();
      const block = new RegExp(`upstream\\s+${pass}\\s*\\{([^}]*)\\}`).exec(conf)?.[1] ?? '';
      // Round robin is nginx's default: no other balancing method in the block.
      expect(block).not.toMatch(/\b(ip_hash|hash|least_conn|random)\b/);
      const servers = [...block.matchAll(/^\s*server\s+([\w.-]+):(\d+)/gm)].map((match) => ({ host: match[1], port: match[2] }));
      expect(servers.map(({ host }) => host).sort()).toEqual(apiServices.sort());
      for (const server of servers) expect(server.port).toBe(containerEnvironment(services[server.host]).PORT);
    });

    it('retries the next API on a connection error or timeout, never a non-idempotent request that was sent', () => {
      const next = /proxy_next_upstream\s+([^;]+);/.exec(conf)?.[1].split(/\s+/) ?? [];
      expect(next).toEqual(expect.arrayContaining(['error', 'timeout']));
      expect(next).not.toContain('non_idempotent');
      // A body as large as ten images of UPLOAD_MAX_BYTES (5 MB) gets through to the API.
      const bodyLimit = /client_max_body_size\s+(\d+)m\s*;/.exec(conf)?.[1];
      expect(Number(bodyLimit)).toBeGreaterThanOrEqual(50);
    });
  });
});

describe('Dockerfile', () => {
  it('builds with npm ci and npm run build, then drops the dev dependencies', () => {
    expect(dockerfile).toMatch(/^RUN npm ci\b/m);
    expect(dockerfile).toMatch(/npm run build/);
    expect(dockerfile).toMatch(/npm prune --omit=dev/);
  });

  it('runs the API as the node user in production on port 5000, with a /health check made by node', () => {
    expect(runtimeStage).toMatch(/^USER node\s*$/m);
    expect(runtimeStage).toMatch(/NODE_ENV=production/);
    expect(runtimeStage).toMatch(/^EXPOSE 5000\s*$/m);
    expect(sourceOf(imageCommand)).toBe(serverSource);
    const healthcheck = /^HEALTHCHECK[\s\S]*?CMD\s+(\[.*\])\s*$/m.exec(runtimeStage)?.[1];
    const check = JSON.parse(healthcheck ?? '[]') as string[];
    expect(check[0]).toBe('node');
    expect(check.join(' ')).toContain('/health');
  });

  it('copies what the runtime needs from the context, and .dockerignore lets it in and keeps secrets out', () => {
    const ignored = read('.dockerignore')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line && !line.startsWith('#'));
    const copied = [...dockerfile.matchAll(/^COPY\s+(?!--from)(.+)\s+\S+\s*$/gm)].flatMap((match) => match[1].split(/\s+/));
    expect(copied).toEqual(expect.arrayContaining(['package.json', 'package-lock.json', 'src', 'migrations', 'templates']));
    for (const source of copied) {
      expect({ source, exists: exists(source) }).toEqual({ source, exists: true });
      expect({ source, ignored: ignored.includes(source) }).toEqual({ source, ignored: false });
    }
    expect(ignored).toEqual(expect.arrayContaining(['node_modules', 'dist', '.data', 'coverage', '.git', '.env']));
  });
});

describe('Railway configuration', () => {
  let app: ReturnType<typeof createApp>;
  let routes: Record<string, Record<string, unknown>>;

  beforeAll(() => {
    app = createApp();
    routes = (publishedOpenApiDocument().paths ?? {}) as Record<string, Record<string, unknown>>;
  });
  afterAll(() => closeRedis());

  type RailwayConfig = { build?: { builder?: string; dockerfilePath?: string }; deploy?: Record<string, unknown> & { startCommand?: string; healthcheckPath?: string } };
  const railway = (file: string) => JSON.parse(read(file)) as RailwayConfig;

  function checkNumbers(config: RailwayConfig): void {
    // Railway's parser refuses "30" where it expects 30.
    for (const [key, value] of Object.entries(config.deploy ?? {})) {
      if (/Seconds|Timeout|Retries$/.test(key)) expect({ key, type: typeof value }).toEqual({ key, type: 'number' });
    }
  }

  it('railway.json is valid JSON that starts what `npm start` starts, checked on a route that exists', async () => {
    const config = railway('railway.json');
    expect(config.deploy?.startCommand).toBe(packageJson.scripts.start);
    expect(sourceOf(config.deploy?.startCommand)).toBe(serverSource);
    const healthPath = config.deploy?.healthcheckPath ?? '';
    expect(routes[healthPath]?.get).toBeDefined();
    expect((await request(app).get(healthPath)).status).toBe(200);
    checkNumbers(config);
  });

  it('deploy/railway.api.json runs the API from the Dockerfile, checked on /ready', () => {
    const config = railway('deploy/railway.api.json');
    expect(config.build?.builder).toBe('DOCKERFILE');
    expect(exists(config.build?.dockerfilePath ?? '')).toBe(true);
    expect(sourceOf(config.deploy?.startCommand)).toBe(serverSource);
    expect(config.deploy?.healthcheckPath).toBe('/ready');
    expect(routes['/ready']?.get).toBeDefined();
    checkNumbers(config);
  });

  it('deploy/railway.worker.json runs the worker, with no HTTP health check since it serves none', () => {
    const config = railway('deploy/railway.worker.json');
    expect(config.build?.builder).toBe('DOCKERFILE');
    expect(exists(config.build?.dockerfilePath ?? '')).toBe(true);
    expect(words(config.deploy?.startCommand)).toEqual(commandOf(services.worker));
    expect(sourceOf(config.deploy?.startCommand)).toBe(path.normalize(workerSource!));
    expect(config.deploy?.healthcheckPath).toBeUndefined();
    expect(config.deploy?.restartPolicyType).toMatch(/^(ON_FAILURE|ALWAYS)$/);
    checkNumbers(config);
  });
});
