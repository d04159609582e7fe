// Enforces the import rules of ARCHITECTURE.md: which layer of src/ may import which.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const SRC = resolve('src');

/** For each layer (a path prefix under src/), the prefixes it must not import. */
const FORBIDDEN = [
  ['kernel/', ['']], // kernel imports nothing from src/ but itself
  [
    'components/',
    [
      'core/',
      'api/',
      'runtime/',
      'resources/',
      'resiliency/',
      'app-channel/',
      'clients/',
      'gen/',
      'cmd/',
      'observability/',
    ],
  ],
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
  for (const match of text.matchAll(/(?:from\s+|import\s*\(\s*)['"](\.[^'"]+)['"]/g)) {
    const target = relative(SRC, resolve(dirname(file), match[1])).replaceAll('\\', '/');
    if (target.startsWith('..')) continue;
    if (target.startsWith(layer)) continue;
    // components may use kernel and contracts only
    if (
      layer === 'components/' &&
      !(target.startsWith('kernel/') || target.startsWith('components/contracts/'))
    ) {
      problems.push(
        `${from}: imports ${target} (components import only kernel and components/contracts)`,
      );
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
