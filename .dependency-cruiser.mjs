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
    {
      name: 'host-apis-in-host-adapters',
      severity: 'error',
      comment:
        'Only the host adapters talk to a host application: photoshop/uxp in uxp-plugin/src/host/, vscode in extension/src/vscode/ ' +
        '(and the test fake of the VS Code API). Everything else works through their interfaces, so it runs in tests and other hosts.',
      from: { pathNot: ['^uxp-plugin/src/host/', '^extension/src/vscode/', '^tests/extension/fake-vscode[.]ts$'] },
      to: { path: ['^(photoshop|uxp|vscode)$', '^node_modules/(@types/)?(photoshop|uxp|vscode)/', '^node_modules/@adobe/cc-ext-uxp-types/'] },
    },
    {
      name: 'onnxruntime-in-one-adapter',
      severity: 'error',
      comment: 'Only models/src/runtime/onnxruntime.ts imports onnxruntime-node: sessions, providers and tensors go through it.',
      from: { pathNot: '^models/src/runtime/onnxruntime[.]ts$' },
      to: { path: '^node_modules/onnxruntime-node/' },
    },
  ],
  options: {
    // Build outputs of the panel, the extension and the benchmarks (only these: a package's own dist/ must stay visible).
    exclude: { path: '^((extension|uxp-plugin)/(build|dist|out)|benchmarks/build)/' },
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};
