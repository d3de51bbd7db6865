/**
 * The import graph of src/, checked in CI (`npm run lint:deps`): no cycle between files, and no
 * import running back up a layer (routes → controllers → services → models, db and
 * integrations; utils, config and types below everything).
 */
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
    {
      name: 'services-know-no-http',
      severity: 'error',
      comment: 'Services, models, jobs, db and integrations know nothing of HTTP: only routes, controllers and middleware do.',
      from: { path: '^src/(services|models|jobs|db|integrations)/' },
      to: { path: '^src/(routes|controllers|middleware)/|^node_modules/express/' },
    },
    {
      name: 'controllers-call-services',
      severity: 'error',
      comment: 'Controllers call services; they never touch models or SQL.',
      from: { path: '^src/controllers/' },
      to: { path: '^src/(models|db)/' },
    },
    {
      name: 'no-upward-from-routes',
      severity: 'error',
      comment: 'Routes mount controllers; nothing below them imports a router.',
      from: { path: '^src/(controllers|services|models|jobs|db|integrations|middleware|utils|config)/' },
      to: { path: '^src/routes/.+\\.routes\\.ts$' },
    },
    {
      name: 'foundations-stay-below',
      severity: 'error',
      comment: 'utils and config are the bottom layer: they import nothing of the application.',
      from: { path: '^src/(utils|config)/' },
      to: { path: '^src/(routes|controllers|services|models|jobs|db|integrations|middleware)/' },
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
    exclude: { path: '^(dist|node_modules)/' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};
