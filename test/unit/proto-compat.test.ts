// Checks Tapr's own .proto files (proto/) against the copy of Dapr's protos shipped
// in the @dapr/dapr SDK: every message, field, enum value and RPC the SDK knows must
// exist in ours with the same wire shape, so SDK clients and apps interoperate.
// Both trees are compiled with the buf binary from node_modules into descriptor sets.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, relative } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { fromBinary, isFieldSet } from '@bufbuild/protobuf';
import {
  type DescriptorProto,
  type EnumDescriptorProto,
  type FieldDescriptorProto,
  FieldDescriptorProto_Label,
  FieldDescriptorProto_Type,
  FieldDescriptorProtoSchema,
  type FileDescriptorSet,
  FileDescriptorSetSchema,
  type MethodDescriptorProto,
} from '@bufbuild/protobuf/wkt';

/** Packages whose messages and enums must match the SDK. */
const PACKAGES = ['dapr.proto.runtime.v1', 'dapr.proto.common.v1', 'dapr.proto.internals.v1'];

/** Services whose RPCs must match the SDK, by fully-qualified name. */
const SERVICES = [
  'dapr.proto.runtime.v1.Dapr',
  'dapr.proto.runtime.v1.AppCallback',
  'dapr.proto.runtime.v1.AppCallbackHealthCheck',
  'dapr.proto.runtime.v1.AppCallbackAlpha',
  'dapr.proto.internals.v1.ServiceInvocation',
];

/** A compiled tree, indexed by fully-qualified name. */
interface Index {
  messages: Map<string, DescriptorProto>;
  enums: Map<string, EnumDescriptorProto>;
  services: Map<string, Map<string, MethodDescriptorProto>>;
}

function findRepoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'buf.gen.yaml')) && existsSync(join(dir, 'package.json'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error('repository root (buf.gen.yaml) not found');
    dir = parent;
  }
}

const root = findRepoRoot();
const bufBin = join(root, 'node_modules', '.bin', process.platform === 'win32' ? 'buf.cmd' : 'buf');
const sdkProtoDir = join(root, 'node_modules', '@dapr', 'dapr', 'proto');

function buildDescriptorSet(cwd: string, input: string, out: string): FileDescriptorSet {
  execFileSync(bufBin, ['build', input, '--as-file-descriptor-set', '-o', out], {
    cwd,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  return fromBinary(FileDescriptorSetSchema, readFileSync(out));
}

function indexSet(set: FileDescriptorSet): Index {
  const index: Index = { messages: new Map(), enums: new Map(), services: new Map() };
  const addEnums = (prefix: string, enums: EnumDescriptorProto[]): void => {
    for (const e of enums) index.enums.set(`${prefix}.${e.name}`, e);
  };
  const addMessages = (prefix: string, messages: DescriptorProto[]): void => {
    for (const m of messages) {
      const name = `${prefix}.${m.name}`;
      index.messages.set(name, m);
      addEnums(name, m.enumType);
      addMessages(name, m.nestedType);
    }
  };
  for (const file of set.file) {
    addMessages(file.package, file.messageType);
    addEnums(file.package, file.enumType);
    for (const service of file.service) {
      const methods = new Map<string, MethodDescriptorProto>();
      for (const method of service.method) methods.set(method.name, method);
      index.services.set(`${file.package}.${service.name}`, methods);
    }
  }
  return index;
}

function inPackages(fullName: string): boolean {
  return PACKAGES.some((pkg) => fullName.startsWith(`${pkg}.`));
}

/**
 * A field as a comparable string: its wire facts (type, type name, label) plus the
 * name, JSON name, oneof membership and proto3 `optional`, which shape the JSON form
 * and the generated code.
 */
function fieldShape(message: DescriptorProto, field: FieldDescriptorProto): string {
  const type = FieldDescriptorProto_Type[field.type] ?? String(field.type);
  const label = FieldDescriptorProto_Label[field.label] ?? String(field.label);
  // descriptor.proto is proto2: an unset oneof_index reads as 0, so check presence.
  const inOneof =
    isFieldSet(field, FieldDescriptorProtoSchema.field.oneofIndex) && !field.proto3Optional;
  const oneof = inOneof ? (message.oneofDecl[field.oneofIndex]?.name ?? '?') : '';
  return [
    `name=${field.name}`,
    `type=${type}${field.typeName ? ` ${field.typeName}` : ''}`,
    `label=${label}`,
    `json=${field.jsonName}`,
    `proto3_optional=${field.proto3Optional}`,
    `oneof=${oneof}`,
  ].join(' ');
}

function compareMessages(sdk: Index, ours: Index): string[] {
  const problems: string[] = [];
  for (const [name, theirs] of sdk.messages) {
    if (!inPackages(name)) continue;
    const mine = ours.messages.get(name);
    if (!mine) {
      problems.push(`message ${name}: missing`);
      continue;
    }
    for (const field of theirs.field) {
      const match = mine.field.find((f) => f.number === field.number);
      if (!match) {
        problems.push(`${name} #${field.number} (${field.name}): missing`);
        continue;
      }
      const want = fieldShape(theirs, field);
      const got = fieldShape(mine, match);
      if (want !== got) problems.push(`${name} #${field.number}: want ${want}; got ${got}`);
    }
  }
  return problems;
}

function compareEnums(sdk: Index, ours: Index): string[] {
  const problems: string[] = [];
  for (const [name, theirs] of sdk.enums) {
    if (!inPackages(name)) continue;
    const mine = ours.enums.get(name);
    if (!mine) {
      problems.push(`enum ${name}: missing`);
      continue;
    }
    for (const value of theirs.value) {
      const match = mine.value.find((v) => v.name === value.name);
      if (!match) problems.push(`${name}.${value.name}: missing`);
      else if (match.number !== value.number) {
        problems.push(`${name}.${value.name}: want ${value.number}; got ${match.number}`);
      }
    }
  }
  return problems;
}

function methodShape(m: MethodDescriptorProto): string {
  const client = m.clientStreaming ? 'stream ' : '';
  const server = m.serverStreaming ? 'stream ' : '';
  return `(${client}${m.inputType}) returns (${server}${m.outputType})`;
}

function compareServices(sdk: Index, ours: Index): string[] {
  const problems: string[] = [];
  for (const service of SERVICES) {
    const theirs = sdk.services.get(service);
    if (!theirs) {
      problems.push(`service ${service}: not in the SDK tree (test needs updating?)`);
      continue;
    }
    const mine = ours.services.get(service);
    if (!mine) {
      problems.push(`service ${service}: missing`);
      continue;
    }
    for (const [name, method] of theirs) {
      const match = mine.get(name);
      if (!match) problems.push(`${service}/${name}: missing`);
      else if (methodShape(match) !== methodShape(method)) {
        problems.push(`${service}/${name}: want ${methodShape(method)}; got ${methodShape(match)}`);
      }
    }
  }
  return problems;
}

/** Every file under dir, as paths relative to dir. */
function listFiles(dir: string, base = dir): string[] {
  const files: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) files.push(...listFiles(path, base));
    else files.push(relative(base, path));
  }
  return files.sort();
}

describe('generated code', () => {
  it('src/gen matches what `npm run gen` produces from proto/', () => {
    const out = mkdtempSync(join(tmpdir(), 'tapr-proto-gen-'));
    try {
      // buf.gen.yaml names the plugin as a local binary; npm scripts put
      // node_modules/.bin on PATH, so do the same here.
      const path = [join(root, 'node_modules', '.bin'), process.env.PATH ?? ''].join(delimiter);
      execFileSync(bufBin, ['generate', '--template', 'buf.gen.yaml', '-o', out], {
        cwd: root,
        env: { ...process.env, PATH: path },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      const fresh = join(out, 'src', 'gen');
      const committed = join(root, 'src', 'gen');
      const files = listFiles(fresh);
      assert.deepEqual(listFiles(committed), files, 'run `npm run gen`');
      for (const file of files) {
        const same = readFileSync(join(fresh, file)).equals(readFileSync(join(committed, file)));
        assert.ok(same, `src/gen/${file} is stale: run \`npm run gen\``);
      }
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});

describe('proto compatibility with the @dapr/dapr SDK protos', () => {
  const sdkPresent = existsSync(sdkProtoDir);
  let workDir = '';
  let sdk: Index;
  let ours: Index;

  before(() => {
    if (!sdkPresent) return;
    workDir = mkdtempSync(join(tmpdir(), 'tapr-proto-compat-'));
    // Build the SDK tree from the temp dir so the repository's buf.yaml is not used.
    sdk = indexSet(buildDescriptorSet(workDir, sdkProtoDir, join(workDir, 'sdk.binpb')));
    ours = indexSet(buildDescriptorSet(root, 'proto', join(workDir, 'ours.binpb')));
  });

  after(() => {
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });

  const skip = sdkPresent ? false : '@dapr/dapr is not installed';

  it('compiles both trees and finds the SDK messages', { skip }, () => {
    const count = [...sdk.messages.keys()].filter(inPackages).length;
    assert.ok(count > 100, `expected over 100 SDK messages, found ${count}`);
    assert.ok(sdk.services.has('dapr.proto.runtime.v1.Dapr'));
  });

  it('has every SDK message with the same fields', { skip }, () => {
    assert.deepEqual(compareMessages(sdk, ours), []);
  });

  it('has every SDK enum with the same values', { skip }, () => {
    assert.deepEqual(compareEnums(sdk, ours), []);
  });

  it('has every SDK RPC with the same types and streaming', { skip }, () => {
    assert.deepEqual(compareServices(sdk, ours), []);
  });
});
