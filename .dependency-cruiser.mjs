// Import rules of the whole repository, checked by `npm run lint:imports` (part of `npm test`).
// Type-only imports count: a circle of types still blurs which module owns what.
/** @type {import('dependency-cruiser').IConfiguration} */
export default {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'Modules import each other in a circle. Move what both need into a module of its own (see ARCHITECTURE.md).',
      from: {},
      to: { circular: true },
    },
    {
      name: 'core-stands-alone',
      severity: 'error',
      comment:
        'engine/src/core/ is the model of the product (timeline, renderer, backend interface, job contract): it imports only itself, ' +
        'node builtins and zod (the job contract is a zod schema), never the rest of the repository.',
      from: { path: '^engine/src/core/' },
      to: { pathNot: ['^engine/src/core/', '^node_modules/zod/'], dependencyTypesNot: ['core'] },
    },
  ],
  options: {
    exclude: { path: '(^|/)(dist|build|out)/' },
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};
