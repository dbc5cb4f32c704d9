// Builds the @tessera/token-guard package into libs/token-guard/dist: one ES module with the code it
// needs from libs/oauth-core and libs/tokens bundled in, and one .d.ts of its public API. Its
// dependencies and peer dependencies stay imports, so the app's own copies are used (one @nestjs/core).
// Run by `npm run build` / `npm pack` in libs/token-guard; the monorepo provides esbuild and dts-bundle-generator.
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const lib = join(dirname(fileURLToPath(import.meta.url)), '..');
const root = join(lib, '..', '..');
const pkg = JSON.parse(readFileSync(join(lib, 'package.json'), 'utf8'));
const external = [...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.peerDependencies ?? {})];
const dist = join(lib, 'dist');
rmSync(dist, { recursive: true, force: true });

await build({
  entryPoints: [join(lib, 'src/index.ts')],
  outfile: join(dist, 'index.js'),
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // The package's own imports and their subpaths (e.g. @nestjs/common/...) stay imports.
  external: external.flatMap((name) => [name, `${name}/*`]),
  // Resolves @tessera/* through the root tsconfig's paths, and compiles the legacy decorators.
  tsconfig: join(root, 'tsconfig.json'),
  sourcemap: true,
  sourcesContent: true, // the map stands alone: the package ships no src/
  legalComments: 'none',
  logLevel: 'warning',
});

// One declaration file: the public API, with what it refers to from the other libs inlined.
const require = createRequire(import.meta.url);
const generator = join(dirname(require.resolve('dts-bundle-generator/package.json', { paths: [root] })), 'dist/bin/dts-bundle-generator.js');
execFileSync(
  process.execPath,
  [generator, '--silent', '--project', join(lib, 'tsconfig.package.json'), '--no-banner', '--export-referenced-types=false', '-o', join(dist, 'index.d.ts'), join(lib, 'src/index.ts')],
  { stdio: 'inherit', cwd: root },
);
console.log(`built ${pkg.name}@${pkg.version} into ${dist}`);
