import fs from 'node:fs';

/**
 * Summarizes a V8 CPU profile (`node --cpu-prof`) of the API: self and inclusive samples per
 * function, per component (our files, each package, each node: module) and per area of a request
 * (token check, Express, joi, logging, SQL client, serialization, our services, GC …).
 *
 * A sample belongs to the innermost frame of its stack that has an area. node: internals (but
 * the HTTP server's own modules: node:_http_*), events, streams and native functions (Node's
 * bindings such as writev, V8's builtins) have none, so their time counts for the code that
 * called them: a socket write under pg is SQL client cost, the same write under res.end is the
 * HTTP server's, a stdout write under winston is logging. JSON.stringify and JSON.parse show no
 * frame of their own: their time is the self time of the function that called them (res.json's
 * `stringify` in express/lib/response.js, logform's format). Stacks end at async boundaries, so a
 * pg row parsed in a socket's data event is pg's whatever query it answers.
 *
 * Run alone: tsx bench/profile-summary.ts <file.cpuprofile> [--from <µs>] [--to <µs>] [--json]
 * (the window is in the profile's clock, CLOCK_MONOTONIC, as process.hrtime gives it).
 */

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

export interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface Row {
  name: string;
  samples: number;
  /** Share of the busy (non-idle) samples. */
  share: number;
}

export interface Summary {
  windowMs: number;
  /** Samples in the window: busy (any stack) and idle (the event loop waiting). */
  busySamples: number;
  idleSamples: number;
  areas: Row[];
  selfByFunction: Row[];
  inclusiveByFunction: Row[];
  selfByComponent: Row[];
  inclusiveByComponent: Row[];
  /** Per area, the functions whose self time it holds, largest first. */
  selfByArea: Record<string, Row[]>;
  /** Per area, the components (files, packages, node: modules) whose self time it holds. */
  componentsByArea: Record<string, Row[]>;
}

/** The area names, in the order the report lists them. */
export const AREAS = [
  'token and session check',
  'Express routing and middleware',
  'validation (joi)',
  'logging (winston)',
  'metrics (prom-client)',
  'serialization (serializers, res.json)',
  'SQL client (pg, Sequelize, queryRows)',
  'our service code',
  'background jobs (outbox relay)',
  'Node HTTP server',
  'Node runtime (event loop, streams, timers)',
  'other packages',
  'garbage collection',
  'V8 (program)',
] as const;

export type Area = (typeof AREAS)[number];

const PACKAGE_AREAS: Array<[Area, string[]]> = [
  [
    'token and session check',
    ['jsonwebtoken', 'jws', 'jwa', 'safe-buffer', 'buffer-equal-constant-time', 'ecdsa-sig-formatter', 'lodash.includes', 'lodash.isboolean', 'lodash.isinteger', 'lodash.isnumber', 'lodash.isplainobject', 'lodash.isstring', 'lodash.once', 'semver'],
  ],
  [
    'Express routing and middleware',
    [
      'express', 'router', 'body-parser', 'raw-body', 'finalhandler', 'on-finished', 'on-headers', 'helmet', 'cors', 'vary', 'object-assign', 'qs', 'side-channel',
      'side-channel-list', 'side-channel-map', 'side-channel-weakmap', 'type-is', 'content-type', 'media-typer', 'mime-types', 'mime-db', 'iconv-lite',
      'bytes', 'depd', 'http-errors', 'statuses', 'parseurl', 'path-to-regexp', 'encodeurl', 'escape-html', 'etag', 'fresh', 'send', 'serve-static',
      'proxy-addr', 'forwarded', 'ipaddr.js', 'accepts', 'negotiator', 'content-disposition', 'cookie', 'cookie-signature', 'merge-descriptors',
      'utils-merge', 'range-parser', 'unpipe', 'ee-first', 'destroy', 'debug', 'express-rate-limit', 'setprototypeof', 'inherits', 'toidentifier',
      'call-bind-apply-helpers', 'call-bound', 'get-intrinsic', 'es-errors', 'es-object-atoms', 'function-bind', 'gopd', 'has-symbols', 'hasown',
      'dunder-proto', 'get-proto', 'math-intrinsics', 'object-inspect', 'es-define-property', 'once', 'wrappy', 'is-promise',
    ],
  ],
  ['validation (joi)', ['joi', '@hapi/hoek', '@hapi/topo', '@sideway/address', '@sideway/formula', '@sideway/pinpoint']],
  [
    'logging (winston)',
    [
      'winston', 'logform', 'winston-transport', 'readable-stream', 'triple-beam', '@colors/colors', 'colors', 'safe-stable-stringify', 'fecha', 'text-hex',
      'color', 'color-string', 'color-convert', 'color-name', 'simple-swizzle', 'is-arrayish', 'kuler', '@dabh/diagnostics', 'enabled', 'fn.name', 'one-time',
      'stack-trace', 'async', 'is-stream', '@so-ric/colorspace', 'string_decoder', 'util-deprecate',
    ],
  ],
  ['metrics (prom-client)', ['prom-client', 'tdigest', 'bintrees']],
  [
    'SQL client (pg, Sequelize, queryRows)',
    [
      'pg', 'pg-protocol', 'pg-types', 'pg-pool', 'pg-connection-string', 'pg-int8', 'pg-hstore', 'postgres-array', 'postgres-bytea', 'postgres-date',
      'postgres-interval', 'pgpass', 'split2', 'packet-reader', 'buffer-writer', 'sequelize', 'sequelize-typescript', 'sequelize-pool', 'retry-as-promised',
      'wkx', 'dottie', 'inflection', 'toposort-class', 'moment', 'moment-timezone', 'validator', 'uuid', 'lodash', 'xtend',
    ],
  ],
];

const PACKAGE_AREA = new Map<string, Area>(PACKAGE_AREAS.flatMap(([area, packages]) => packages.map((name) => [name, area] as [string, Area])));

/** The node: modules of the HTTP server itself: parsing requests and writing responses. */
const HTTP_SERVER_MODULES = /^node:_http_(server|common|outgoing|incoming)$/;

/** What a frame belongs to: one of our files (src/…, as .ts), a package, a node: module, or a V8 pseudo-frame. */
export function componentOf(frame: CallFrame): string {
  const { url, functionName } = frame;
  if (url === '') {
    if (functionName.startsWith('(')) return functionName;
    // Node's native bindings (writev) and V8's builtins (runMicrotasks) carry no script.
    return '(native)';
  }
  if (url.startsWith('node:')) return url;
  const modules = url.lastIndexOf('/node_modules/');
  if (modules >= 0) {
    const parts = url.slice(modules + '/node_modules/'.length).split('/');
    return parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
  }
  const ours = /\/(?:dist\/)?((?:src|bench)\/.*?)\.(?:js|ts)$/.exec(url.replace(/^file:\/\//, ''));
  if (ours) return `${ours[1]}.ts`;
  return url;
}

/** The area of a frame, or undefined for frames whose time belongs to their caller. */
function areaOfFrame(frame: CallFrame, component: string): Area | undefined {
  if (component === '(garbage collector)') return 'garbage collection';
  if (component === '(program)') return 'V8 (program)';
  if (component === '(native)' || component === '(root)' || component === '(idle)') return undefined;
  if (component.startsWith('node:')) return HTTP_SERVER_MODULES.test(component) ? 'Node HTTP server' : undefined;
  if (component.startsWith('src/')) return ourArea(component);
  if (component.startsWith('bench/')) return 'other packages';
  // res.json and its stringify are serialization; the rest of express/lib/response.js (send, set, end) is Express.
  if (component === 'express' && /\/lib\/response\.js$/.test(frame.url) && (frame.functionName === 'json' || frame.functionName === 'stringify')) {
    return 'serialization (serializers, res.json)';
  }
  return PACKAGE_AREA.get(component) ?? 'other packages';
}

function ourArea(file: string): Area {
  if (/^src\/modules\/accounts\/(token\.service|auth\.middleware|session\.service|session-cache)\.ts$/.test(file)) return 'token and session check';
  if (/\.serializer\.ts$/.test(file)) return 'serialization (serializers, res.json)';
  if (/^src\/platform\/http\/validate\.middleware\.ts$/.test(file) || /\.schemas\.ts$/.test(file)) return 'validation (joi)';
  if (file === 'src/platform/utils/logger.ts') return 'logging (winston)';
  if (file === 'src/platform/utils/metrics.ts') return 'metrics (prom-client)';
  if (file.startsWith('src/platform/db/')) return 'SQL client (pg, Sequelize, queryRows)';
  if (file.startsWith('src/platform/jobs/') || file.startsWith('src/jobs/')) return 'background jobs (outbox relay)';
  if (file.startsWith('src/platform/http/') || file === 'src/app.ts' || file === 'src/api-router.ts' || /\.(routes|controller)\.ts$/.test(file)) {
    return 'Express routing and middleware';
  }
  return 'our service code';
}

function functionKey(frame: CallFrame, component: string): string {
  const name = frame.functionName || '(anonymous)';
  if (component.startsWith('(')) return name;
  // Line numbers are 0-based in the profile.
  return `${name} ${component}:${frame.lineNumber + 1}`;
}

function rows(map: Map<string, number>, busy: number, limit?: number): Row[] {
  return [...map.entries()]
    .map(([name, samples]) => ({ name, samples, share: busy > 0 ? samples / busy : 0 }))
    .sort((a, b) => b.samples - a.samples)
    .slice(0, limit);
}

function add<K>(map: Map<K, number>, key: K, samples: number): void {
  map.set(key, (map.get(key) ?? 0) + samples);
}

/**
 * The profile's samples between `from` and `to` (µs, the profile's clock; the whole profile by
 * default). Each sample counts once: V8 samples about every millisecond while the thread runs,
 * and a thread that waited for a core is sampled once when it runs again, so counts follow CPU
 * time where time-weighted samples would also count the waits for a core.
 */
export function summarize(profile: CpuProfile, window: { from?: number; to?: number } = {}, limit = 25): Summary {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const component = new Map(profile.nodes.map((node) => [node.id, componentOf(node.callFrame)]));
  const key = new Map(profile.nodes.map((node) => [node.id, functionKey(node.callFrame, component.get(node.id)!)]));

  // Per node, once: its stack's area and the distinct functions and components on it.
  const stackOf = new Map<number, { area: Area; functions: string[]; components: string[] }>();
  const stack = (id: number) => {
    let known = stackOf.get(id);
    if (known) return known;
    let area: Area | undefined;
    const functions = new Set<string>();
    const components = new Set<string>();
    for (let current: number | undefined = id; current !== undefined; current = parent.get(current)) {
      const part = component.get(current)!;
      area ??= areaOfFrame(byId.get(current)!.callFrame, part);
      if (part !== '(root)') {
        functions.add(key.get(current)!);
        components.add(part);
      }
    }
    known = { area: area ?? 'Node runtime (event loop, streams, timers)', functions: [...functions], components: [...components] };
    stackOf.set(id, known);
    return known;
  };

  const from = window.from ?? -Infinity;
  const to = window.to ?? Infinity;
  const areas = new Map<Area, number>();
  const selfByFunction = new Map<string, number>();
  const inclusiveByFunction = new Map<string, number>();
  const selfByComponent = new Map<string, number>();
  const inclusiveByComponent = new Map<string, number>();
  const selfByArea = new Map<Area, Map<string, number>>();
  const componentsByArea = new Map<Area, Map<string, number>>();
  let busy = 0;
  let idle = 0;
  let time = profile.startTime;
  for (let i = 0; i < profile.samples.length; i += 1) {
    time += profile.timeDeltas[i];
    if (time < from || time > to) continue;
    const id = profile.samples[i];
    const leaf = component.get(id)!;
    if (leaf === '(idle)') {
      idle += 1;
      continue;
    }
    busy += 1;
    const { area, functions, components } = stack(id);
    add(areas, area, 1);
    if (!selfByArea.has(area)) selfByArea.set(area, new Map());
    add(selfByArea.get(area)!, key.get(id)!, 1);
    if (!componentsByArea.has(area)) componentsByArea.set(area, new Map());
    add(componentsByArea.get(area)!, leaf, 1);
    add(selfByFunction, key.get(id)!, 1);
    add(selfByComponent, leaf, 1);
    for (const name of functions) add(inclusiveByFunction, name, 1);
    for (const name of components) add(inclusiveByComponent, name, 1);
  }
  return {
    windowMs: Math.round((Math.min(to, profile.endTime) - Math.max(from, profile.startTime)) / 1000),
    busySamples: busy,
    idleSamples: idle,
    areas: AREAS.map((name): Row => ({ name, samples: areas.get(name) ?? 0, share: busy > 0 ? (areas.get(name) ?? 0) / busy : 0 })),
    selfByFunction: rows(selfByFunction, busy, limit),
    inclusiveByFunction: rows(inclusiveByFunction, busy, limit),
    selfByComponent: rows(selfByComponent, busy, limit),
    inclusiveByComponent: rows(inclusiveByComponent, busy, limit),
    selfByArea: Object.fromEntries(AREAS.filter((area) => selfByArea.has(area)).map((area) => [area, rows(selfByArea.get(area)!, busy, limit)])),
    componentsByArea: Object.fromEntries(AREAS.filter((area) => componentsByArea.has(area)).map((area) => [area, rows(componentsByArea.get(area)!, busy, limit)])),
  };
}

function percent(share: number): string {
  return `${(share * 100).toFixed(1)} %`;
}

/** The summary as plain text tables. */
export function formatSummary(title: string, summary: Summary): string {
  const table = (heading: string, list: Row[]) =>
    [`  ${heading}`, ...list.map((row) => `    ${percent(row.share).padStart(7)}  ${String(row.samples).padStart(6)}  ${row.name}`)].join('\n');
  return [
    `${title}: ${summary.windowMs} ms window, ${summary.busySamples} busy samples, ${summary.idleSamples} idle (shares are of the busy ones)`,
    table('areas (innermost frame with an area)', summary.areas),
    table('self time by function', summary.selfByFunction),
    table('inclusive time by function', summary.inclusiveByFunction),
    table('self time by component', summary.selfByComponent),
    table('inclusive time by component', summary.inclusiveByComponent),
    ...Object.entries(summary.selfByArea).flatMap(([area, list]) => [
      table(`self time in ${area}, by function`, list.slice(0, 8)),
      table(`self time in ${area}, by component`, (summary.componentsByArea[area] ?? []).slice(0, 8)),
    ]),
  ].join('\n');
}

if (require.main === module) {
  const args = process.argv.slice(2);
  const file = args.find((arg, index) => !arg.startsWith('--') && !['--from', '--to'].includes(args[index - 1]));
  if (!file) {
    process.stderr.write('usage: tsx bench/profile-summary.ts <file.cpuprofile> [--from <µs>] [--to <µs>] [--json]\n');
    process.exit(2);
  }
  const option = (name: string) => {
    const index = args.indexOf(name);
    return index >= 0 ? Number(args[index + 1]) : undefined;
  };
  const summary = summarize(JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile, { from: option('--from'), to: option('--to') });
  process.stdout.write(args.includes('--json') ? `${JSON.stringify(summary, null, 2)}\n` : `${formatSummary(file, summary)}\n`);
}
