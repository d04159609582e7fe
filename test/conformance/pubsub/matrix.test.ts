import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { registerBuiltinComponents } from '../../../src/components/builtin.js';
import { ComponentRegistry } from '../../../src/components/registry.js';

describe('pub/sub conformance matrix', () => {
  const registry = new ComponentRegistry();
  registerBuiltinComponents(registry);
  const ids = registry
    .list()
    .filter((definition) => definition.kind === 'pubsub')
    .map((definition) => definition.type.slice('pubsub.'.length));

  it('has a broker entry and a suite file for every built-in pub/sub', () => {
    assert.ok(ids.length > 0);
    for (const id of ids) {
      for (const file of [`./brokers/${id}.js`, `./${id}.test.js`]) {
        const path = fileURLToPath(new URL(file, import.meta.url));
        assert.ok(existsSync(path), `pubsub.${id}: ${path} runs the conformance suite`);
      }
    }
  });
});
