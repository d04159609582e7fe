// Loaded into taprd with `--import` (BENCH_TAPRD_NODE_ARGS="--import dist/bench/harness/loop-probe.js"):
// appends every garbage collection (with the heap used after it) and every event-loop stall over 4 ms to the file named by
// BENCH_LOOP_PROBE_OUT, to tell collector pauses from other stalls when a tail latency is read.
import { appendFileSync } from 'node:fs';
import { type PerformanceEntry, PerformanceObserver } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';

const out = process.env.BENCH_LOOP_PROBE_OUT ?? `/tmp/tapr-loop-probe-${process.pid}.log`;
const TICK_MS = 2;
const STALL_MS = 4;
const started = performance.now();
let last = started;

setInterval(() => {
  const now = performance.now();
  const stall = now - last - TICK_MS;
  if (stall > STALL_MS)
    appendFileSync(out, `stall ${(now - started).toFixed(0)} ${stall.toFixed(1)}\n`);
  last = now;
}, TICK_MS).unref();

new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    const kind = (entry as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind;
    appendFileSync(
      out,
      `gc ${(entry.startTime - started).toFixed(0)} ${entry.duration.toFixed(1)} kind=${kind} heapMB=${(getHeapStatistics().used_heap_size / 1e6).toFixed(1)}\n`,
    );
  }
}).observe({ entryTypes: ['gc'] });
