import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { create } from '@bufbuild/protobuf';
import { parseBenchArgs } from '../../../bench/harness/cli-options.js';
import { grpcLeanUnaryDriver, replyMessage } from '../../../bench/harness/grpc-lean-driver.js';
import { parseStatCpuTicks, parseStatusMemory } from '../../../bench/harness/proc-stats.js';
import { fileGroup, summarizeProfile } from '../../../bench/harness/profile-summary.js';
import { resultFileName } from '../../../bench/harness/report.js';
import { GrpcError } from '../../../src/api/grpc/server/grpc-error.js';
import { GrpcServer } from '../../../src/api/grpc/server/grpc-server.js';
import { Dapr } from '../../../src/gen/dapr/proto/runtime/v1/dapr_pb.js';
import {
  GetStateRequestSchema,
  GetStateResponseSchema,
} from '../../../src/gen/dapr/proto/runtime/v1/state_pb.js';
import { GrpcCode } from '../../../src/kernel/grpc-code.js';

describe('bench flags', () => {
  it('defaults to 3 rounds of 5 s, 1,000 ops/s and 32 in flight', () => {
    const options = parseBenchArgs([]);
    assert.equal(options.rounds, 3);
    assert.equal(options.durationMs, 5000);
    assert.equal(options.warmupMs, 1000);
    assert.equal(options.ratePerSecond, 1000);
    assert.equal(options.concurrency, 32);
    assert.equal(options.smoke, false);
    assert.equal(options.outDir, undefined);
  });

  it('--smoke is one round of 0.5 s, and explicit flags still win', () => {
    const smoke = parseBenchArgs(['--smoke']);
    assert.equal(smoke.rounds, 1);
    assert.equal(smoke.durationMs, 500);
    const mixed = parseBenchArgs([
      '--smoke',
      '--rounds',
      '2',
      '--duration',
      '1.5',
      '--rate',
      '500',
    ]);
    assert.equal(mixed.rounds, 2);
    assert.equal(mixed.durationMs, 1500);
    assert.equal(mixed.ratePerSecond, 500);
  });

  it('rejects unknown flags and out-of-range values', () => {
    assert.throws(() => parseBenchArgs(['--nope']));
    assert.throws(() => parseBenchArgs(['--rounds', '0']), /--rounds/);
    assert.throws(() => parseBenchArgs(['--rounds', '1.5']), /integer/);
    assert.throws(() => parseBenchArgs(['--concurrency', 'x']), /--concurrency/);
    assert.throws(() => parseBenchArgs(['--duration', '1000']), /--duration/);
  });
});

describe('bench /proc parsing', () => {
  it('reads utime + stime after the command name, even with spaces and parentheses in it', () => {
    const fields = Array.from({ length: 50 }, (_, index) => String(index + 3));
    // Field n holds the number n, so utime = 14 and stime = 15.
    const stat = `1234 (node (bench) x) ${fields.join(' ')}`;
    assert.equal(parseStatCpuTicks(stat), 29);
    assert.throws(() => parseStatCpuTicks('garbage'), /malformed/);
  });

  it('reads VmRSS and VmHWM in bytes', () => {
    const status = 'Name:\tnode\nVmHWM:\t  204800 kB\nVmRSS:\t  102400 kB\nThreads:\t7\n';
    assert.deepEqual(parseStatusMemory(status), {
      rssBytes: 100 * 1024 * 1024,
      peakRssBytes: 200 * 1024 * 1024,
    });
    assert.deepEqual(parseStatusMemory('Name:\tzombie\n'), { rssBytes: 0, peakRssBytes: 0 });
  });
});

describe('bench result files', () => {
  it('are named <bench>-<ISO timestamp>.json without colons', () => {
    assert.equal(
      resultFileName('state', new Date('2026-11-29T10:04:05.123Z')),
      'state-2026-11-29T10-04-05Z.json',
    );
  });
});

describe('bench CPU profile summary', () => {
  const frame = (functionName: string, url: string, lineNumber = 0) => ({
    functionName,
    url,
    lineNumber,
  });

  it('sums self time per function and per package, leaving idle out', () => {
    const profile = {
      nodes: [
        { id: 1, callFrame: frame('(root)', '') },
        { id: 2, callFrame: frame('(idle)', '') },
        { id: 3, callFrame: frame('parse', 'file:///r/node_modules/ioredis/built/Parser.js', 9) },
        { id: 4, callFrame: frame('handle', 'file:///r/dist/src/api/grpc/server.js', 41) },
      ],
      samples: [3, 4, 3, 2, 3],
      // The first delta is the start offset; sample i took timeDeltas[i + 1] µs.
      timeDeltas: [0, 1000, 3000, 1000, 50_000, 2000],
    };
    const summary = summarizeProfile(profile);
    assert.equal(summary.totalMs, 7);
    assert.deepEqual(summary.functions[0], {
      name: 'parse ioredis:10',
      selfMs: 4,
      percent: (4 / 7) * 100,
    });
    assert.equal(summary.functions[1]?.name, 'handle src/api/grpc/server.js:42');
    assert.deepEqual(
      summary.files.map((entry) => entry.name),
      ['ioredis', 'src/api/grpc/server.js'],
    );
  });

  it('groups by package, node internals and repository paths', () => {
    assert.equal(fileGroup('file:///x/node_modules/@grpc/grpc-js/build/src/a.js'), '@grpc/grpc-js');
    assert.equal(fileGroup('node:internal/http2/core'), 'node:internal/http2/core');
    assert.equal(fileGroup(''), '(native / V8)');
    assert.throws(() => summarizeProfile(42), /not a CPU profile/);
  });
});

describe('lean gRPC driver', () => {
  it('makes unary calls, checks replies and fails on a non-OK status', async () => {
    const server = new GrpcServer().registerService(Dapr, {
      getState(request) {
        if (request.key === 'missing') throw new GrpcError(GrpcCode.NOT_FOUND, 'no such key');
        return { data: new Uint8Array(300).fill(7), etag: request.key };
      },
    });
    const port = await server.listen(0, ['127.0.0.1']);
    const etags: string[] = [];
    const calls = (keys: string[]) => ({
      address: `127.0.0.1:${port}`,
      path: '/dapr.proto.runtime.v1.Dapr/GetState',
      requestSchema: GetStateRequestSchema,
      responseSchema: GetStateResponseSchema,
      requests: keys.map((key) => create(GetStateRequestSchema, { storeName: 's', key })),
      check(response: { data: Uint8Array; etag: string }) {
        assert.equal(response.data.byteLength, 300);
        etags.push(response.etag);
      },
    });
    const driver = await grpcLeanUnaryDriver(calls(['a', 'b']));
    const failing = await grpcLeanUnaryDriver(calls(['missing']));
    try {
      await Promise.all([driver.op(), driver.op(), driver.op()]);
      assert.deepEqual(etags, ['a', 'b', 'a']);
      await assert.rejects(failing.op(), /status 5 no such key/);
    } finally {
      await driver.close();
      await failing.close();
      await server.close(0);
    }
  });

  it('refuses replies that are not exactly one uncompressed message', () => {
    assert.deepEqual(
      [...replyMessage([Buffer.from([0, 0, 0]), Buffer.from([0, 2, 9, 9])])],
      [9, 9],
    );
    assert.throws(() => replyMessage([Buffer.alloc(0)]), /holds no message/);
    assert.throws(() => replyMessage([Buffer.from([1, 0, 0, 0, 0])]), /flag 1/);
    assert.throws(() => replyMessage([Buffer.from([0, 0, 0, 0, 2, 1])]), /for a message of 2/);
  });
});
