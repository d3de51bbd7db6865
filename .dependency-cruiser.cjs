/**
 * The import graph of src/, checked in CI (`npm run lint:deps`).
 *
 * - src/modules/<name>/ is one domain each: accounts < webhooks < catalog < finance < order < payment. A
 *   module imports only modules below it, and only through their index.ts.
 * - src/platform/ (config, db, http, jobs, mail, payments, storage, utils) and src/models/ sit
 *   below every module and import none.
 * - Inside a module the layers run one way: *.routes → *.controller → services → models and
 *   platform; nothing below the HTTP edge knows Express.
 * - The composition roots (app.ts, api-router.ts, server.ts, jobs/, cli/, seed/) put it together.
 */
const MODULE_ORDER = ['accounts', 'webhooks', 'catalog', 'finance', 'order', 'payment'];

/** One rule per module: nothing above it in MODULE_ORDER. */
const moduleLayers = MODULE_ORDER.slice(0, -1).map((name, index) => ({
  name: `module-order-${name}`,
  severity: 'error',
  comment: `Modules depend one way (${MODULE_ORDER.join(' < ')}): ${name} imports none of ${MODULE_ORDER.slice(index + 1).join(', ')}.`,
  from: { path: `^src/modules/${name}/` },
  to: { path: `^src/modules/(${MODULE_ORDER.slice(index + 1).join('|')})/` },
}));

/** The HTTP edge: the only files that may know Express, routers, controllers and request schemas. */
const HTTP_EDGE = '(\\.routes|\\.controller|\\.middleware|\\.schemas)\\.ts$|^src/platform/http/|^src/(app|api-router|server)\\.ts$|^src/types/|^src/cli/openapi\\.ts$';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment:
        'A cycle ties files together so that neither can be read, changed or tested alone. The models are the exception: ' +
        "sequelize-typescript associations name each other both ways, lazily (`() => Order`), as the tables' foreign keys do.",
      from: { path: '^src/', pathNot: '^src/models/' },
      to: { circular: true },
    },
    ...moduleLayers,
    {
      name: 'modules-through-their-index',
      severity: 'error',
      comment: "Another module is reached through its index.ts only: what it exports there is its surface, the rest is its own.",
      from: { path: '^src/modules/([^/]+)/' },
      to: { path: '^src/modules/[^/]+/', pathNot: ['^src/modules/$1/', '^src/modules/[^/]+/index\\.ts$'] },
    },
    {
      name: 'composition-through-indexes',
      severity: 'error',
      comment: 'Outside the modules, a module is reached through its index.ts only.',
      from: { path: '^src/', pathNot: '^src/modules/' },
      to: { path: '^src/modules/[^/]+/', pathNot: '^src/modules/[^/]+/index\\.ts$' },
    },
    {
      name: 'platform-below-modules',
      severity: 'error',
      comment: 'The platform and the models serve every module and know none of them, nor what composes them.',
      from: { path: '^src/(platform|models)/' },
      to: { path: '^src/(modules|jobs|cli|seed)/|^src/(app|api-router|server|lifecycle)\\.ts$' },
    },
    {
      name: 'services-know-no-http',
      severity: 'error',
      comment: 'Services, state machines, serializers, models and the platform below HTTP know nothing of Express, routes, controllers or request schemas.',
      from: { path: '^src/', pathNot: `${HTTP_EDGE}|/index\\.ts$` },
      to: { path: `${HTTP_EDGE}|^node_modules/(@types/)?express/` },
    },
    {
      name: 'controllers-call-services',
      severity: 'error',
      comment: 'Controllers call services; they never touch models or SQL.',
      from: { path: '\\.controller\\.ts$' },
      to: { path: '^src/models/|^src/platform/db/' },
    },
    {
      name: 'routers-mounted-from-above',
      severity: 'error',
      comment: 'A router is mounted by its module index and the API router; nothing below imports one.',
      from: { path: '^src/', pathNot: '/index\\.ts$|^src/(app|api-router)\\.ts$|^src/cli/openapi\\.ts$' },
      to: { path: '\\.routes\\.ts$' },
    },
    {
      name: 'tests-not-imported',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^tests/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^dist/' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};
