// Enforces the import rules of ARCHITECTURE.md: which layer of src/ may import which.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const SRC = resolve('src');

/** For each layer (a path prefix under src/), the prefixes it must not import. */
const FORBIDDEN = [
  ['kernel/', ['']], // kernel imports nothing from src/ but itself
  ['components/', []], // see componentImportAllowed
  [
    'core/',
    [
      'api/',
      'gen/',
      'runtime/',
      'components/registry',
      'components/builtin',
      'components/secretstores/',
      'components/state/',
      'components/pubsub/',
      'components/bindings/',
      'components/nameresolution/',
      'app-channel/',
      'clients/',
      'cmd/',
      'resources/loader',
    ],
  ],
  ['api/', ['components/', 'runtime/', 'cmd/']],
  ['resources/', ['core/', 'api/', 'runtime/', 'cmd/', 'app-channel/']],
  ['resiliency/', ['core/', 'api/', 'runtime/', 'cmd/', 'components/']],
  ['app-channel/', ['api/', 'runtime/', 'cmd/', 'components/']],
  ['clients/', ['api/', 'runtime/', 'cmd/', 'components/']],
  ['placement/', ['core/', 'runtime/', 'api/']],
  ['sentry/', ['core/', 'runtime/', 'api/']],
  ['cli/', ['core/', 'runtime/', 'api/', 'components/']],
];

/**
 * Within components/: the registry and builtin list (files directly in components/) may import
 * any component; contracts import only kernel and contracts; common (driver helpers shared by
 * several component types) imports only kernel, contracts and common; a type's folder imports
 * kernel, contracts, common and itself. Returns true or the rule broken.
 */
function componentImportAllowed(from, target) {
  const folder = (path) => path.split('/')[1];
  const own = from.split('/').length > 2 ? folder(from) : undefined;
  if (target.startsWith('kernel/')) return true;
  if (!target.startsWith('components/')) {
    return 'components import only kernel, components/contracts and components/common';
  }
  if (own === undefined) return true;
  const to = target.split('/').length > 2 ? folder(target) : undefined;
  if (to === 'contracts' || to === own) return true;
  if (own === 'contracts') return 'components/contracts import only kernel and contracts';
  if (to === 'common') return true;
  if (own === 'common') return 'components/common imports only kernel, contracts and common';
  return `components/${own} imports only kernel, contracts, common and its own folder`;
}

/**
 * Drivers load at run time (`await import()` inside `create()`), so a component file may name
 * a package statically only with `import type` (node: built-ins and zod excepted).
 */
function staticDriverImports(text) {
  const found = [];
  for (const match of text.matchAll(
    /^import\s+(type\s+)?[^;]*?\s+from\s+['"]([^'".][^'"]*)['"]/gms,
  )) {
    const [, typeOnly, name] = match;
    if (typeOnly || name.startsWith('node:') || name === 'zod') continue;
    found.push(name);
  }
  return found;
}

function walk(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...walk(path));
    else if (name.endsWith('.ts')) out.push(path);
  }
  return out;
}

const problems = [];
for (const file of walk(SRC)) {
  const from = relative(SRC, file).replaceAll('\\', '/');
  const rule = FORBIDDEN.find(([layer]) => from.startsWith(layer));
  if (!rule) continue;
  const [layer, banned] = rule;
  const text = readFileSync(file, 'utf8');
  if (layer === 'components/') {
    for (const name of staticDriverImports(text)) {
      problems.push(`${from}: imports ${name} statically (drivers load with await import())`);
    }
  }
  for (const match of text.matchAll(/(?:from\s+|import\s*\(\s*)['"](\.[^'"]+)['"]/g)) {
    const target = relative(SRC, resolve(dirname(file), match[1])).replaceAll('\\', '/');
    if (target.startsWith('..')) continue;
    if (layer !== 'components/' && target.startsWith(layer)) continue;
    // components: a type's files use kernel, contracts, the shared helpers and their own folder
    if (layer === 'components/') {
      const allowed = componentImportAllowed(from, target);
      if (allowed !== true) problems.push(`${from}: imports ${target} (${allowed})`);
      continue;
    }
    // resiliency may use kernel and the resource types only (its input is loaded data)
    if (
      layer === 'resiliency/' &&
      !(
        target.startsWith('kernel/') ||
        target === 'resources/types.ts' ||
        target === 'resources/types.js'
      )
    ) {
      problems.push(
        `${from}: imports ${target} (resiliency imports only kernel and resources/types)`,
      );
      continue;
    }
    const hit = banned.find((prefix) => target.startsWith(prefix));
    if (hit !== undefined)
      problems.push(`${from}: imports ${target} (${layer} must not import ${hit || 'src/'})`);
  }
}
if (problems.length > 0) {
  console.error(`import rules broken:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log('import rules: ok');
