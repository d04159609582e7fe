import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { REPO_ROOT } from '../../helpers/taprd-process.js';

const TAPR = join(REPO_ROOT, 'bin/tapr.js');
const VERSION = (
  JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }
).version;

function tapr(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [TAPR, ...args], { encoding: 'utf8' });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('tapr CLI', () => {
  it('prints the CLI and runtime versions as dapr version does', () => {
    const { status, stdout } = tapr('version');
    assert.equal(status, 0);
    assert.equal(stdout, `CLI version: ${VERSION}\nRuntime version: ${VERSION}\n`);
  });

  it('prints the versions as JSON with -o json', () => {
    const { status, stdout } = tapr('version', '-o', 'json');
    assert.equal(status, 0);
    assert.deepEqual(JSON.parse(stdout), { 'Cli version': VERSION, 'Runtime version': VERSION });
  });

  it('refuses an unknown output format', () => {
    const { status, stderr } = tapr('version', '-o', 'xml');
    assert.equal(status, 1);
    assert.match(stderr, /unknown output format "xml"/);
  });

  it('prints help listing its commands', () => {
    const { status, stdout } = tapr('--help');
    assert.equal(status, 0);
    assert.match(stdout, /Usage: tapr/);
    assert.match(stdout, /version/);
  });

  it('prints help for every command', () => {
    for (const command of [
      'init',
      'uninstall',
      'run',
      'list',
      'stop',
      'logs',
      'invoke',
      'publish',
      'components',
      'version',
    ]) {
      const { status, stdout } = tapr(command, '--help');
      assert.equal(status, 0, command);
      assert.match(stdout, new RegExp(`^Usage: tapr ${command} `), command);
    }
    const { stdout } = tapr('--help');
    for (const command of [
      'init',
      'uninstall',
      'run',
      'list',
      'stop',
      'logs',
      'invoke',
      'publish',
      'components',
    ]) {
      assert.match(stdout, new RegExp(`\\n  ${command}\\b`), command);
    }
  });

  it('answers an unknown command with exit code 1', () => {
    const { status, stderr } = tapr('frobnicate');
    assert.equal(status, 1);
    assert.match(stderr, /unknown command/);
  });
});
