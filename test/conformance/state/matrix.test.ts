import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { registerBuiltinComponents } from '../../../src/components/builtin.js';
import { ComponentRegistry } from '../../../src/components/registry.js';
import { STATE_MATRIX } from './matrix.js';

describe('state conformance matrix', () => {
  const registry = new ComponentRegistry();
  registerBuiltinComponents(registry);
  const builtin = registry.list().filter((definition) => definition.kind === 'state');

  it('has exactly one entry per built-in state store', () => {
    const wanted = builtin.map((d) => `${d.type}/${d.version}`).sort();
    const covered = STATE_MATRIX.map((e) => `${e.type}/${e.version}`).sort();
    assert.deepEqual(covered, wanted, 'every built-in state store runs the conformance suite');
    assert.equal(new Set(STATE_MATRIX.map((e) => e.id)).size, STATE_MATRIX.length);
  });

  it('expects the features each definition declares', async () => {
    for (const entry of STATE_MATRIX) {
      const declared = await registry.features(entry.type, entry.version);
      assert.deepEqual([...declared].sort(), [...entry.features].sort(), entry.id);
    }
  });

  it('has a test file per entry', () => {
    for (const { id } of STATE_MATRIX) {
      const file = fileURLToPath(new URL(`./${id}.test.js`, import.meta.url));
      assert.ok(existsSync(file), `${id}: ${file} runs describeStateConformance('${id}')`);
    }
  });
});
