// Reads a V8 .cpuprofile (node --cpu-prof) and lists where the self time went: by function and
// by file or package, so a bench report can say what bounds the hot path.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { isRecord } from './types.js';

/** Self time of one function or one file/package in a profile. */
export interface ProfileEntry {
  readonly name: string;
  readonly selfMs: number;
  readonly percent: number;
}

/** The top self-time entries of a profile, by function and by file or package. */
export interface ProfileSummary {
  readonly totalMs: number;
  readonly functions: readonly ProfileEntry[];
  readonly files: readonly ProfileEntry[];
}

interface ProfileNode {
  readonly id: number;
  readonly functionName: string;
  readonly url: string;
  readonly line: number;
}

/** `node_modules/<pkg>` (scoped too), `node:internal/...`, a repo path from `dist/`, or the url. */
export function fileGroup(url: string): string {
  if (url === '') return '(native / V8)';
  const modules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (modules) return modules[1] ?? url;
  const dist = /\/dist\/(.+)$/.exec(url);
  if (dist) return dist[1] ?? url;
  return url.replace(/^file:\/\//, '');
}

function parseNodes(profile: Record<string, unknown>): ProfileNode[] {
  const nodes = Array.isArray(profile.nodes) ? profile.nodes : [];
  return nodes.flatMap((node: unknown) => {
    if (!isRecord(node) || typeof node.id !== 'number' || !isRecord(node.callFrame)) return [];
    const frame = node.callFrame;
    return [
      {
        id: node.id,
        functionName: typeof frame.functionName === 'string' ? frame.functionName : '',
        url: typeof frame.url === 'string' ? frame.url : '',
        line: typeof frame.lineNumber === 'number' ? frame.lineNumber + 1 : 0,
      },
    ];
  });
}

function top(totals: Map<string, number>, totalMs: number, count: number): ProfileEntry[] {
  return [...totals.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([name, selfMs]) => ({
      name,
      selfMs,
      percent: totalMs > 0 ? (selfMs / totalMs) * 100 : 0,
    }));
}

/**
 * Sums each sample's time delta onto the node it hit (self time), then groups by function
 * (`name file:line`) and by file or package; `(idle)` samples are left out of the total.
 */
export function summarizeProfile(profile: unknown, count = 15): ProfileSummary {
  if (!isRecord(profile)) throw new Error('not a CPU profile');
  const nodes = new Map(parseNodes(profile).map((node) => [node.id, node]));
  const samples = Array.isArray(profile.samples) ? profile.samples : [];
  const deltas = Array.isArray(profile.timeDeltas) ? profile.timeDeltas : [];
  const byFunction = new Map<string, number>();
  const byFile = new Map<string, number>();
  let totalMs = 0;
  samples.forEach((id: unknown, index) => {
    const node = typeof id === 'number' ? nodes.get(id) : undefined;
    const delta = deltas[index + 1];
    if (node === undefined || typeof delta !== 'number' || node.functionName === '(idle)') return;
    const ms = delta / 1000;
    totalMs += ms;
    const where = node.url === '' ? '' : ` ${fileGroup(node.url)}:${node.line}`;
    const fn = `${node.functionName || '(anonymous)'}${where}`;
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + ms);
    const file = fileGroup(node.url);
    byFile.set(file, (byFile.get(file) ?? 0) + ms);
  });
  return {
    totalMs,
    functions: top(byFunction, totalMs, count),
    files: top(byFile, totalMs, count),
  };
}

/** The newest `.cpuprofile` in a directory, or undefined when there is none. */
export function newestProfile(dir: string): string | undefined {
  let best: { path: string; time: number } | undefined;
  for (const name of readdirSync(dir)) {
    if (!name.endsWith('.cpuprofile')) continue;
    const path = join(dir, name);
    const time = statSync(path).mtimeMs;
    if (best === undefined || time > best.time) best = { path, time };
  }
  return best?.path;
}

/** Formats a profile summary as two Markdown tables (functions, then files and packages). */
export function profileTables(summary: ProfileSummary): string {
  const rows = (entries: readonly ProfileEntry[]): string[] =>
    entries.map(
      (entry) => `| ${entry.name} | ${entry.selfMs.toFixed(0)} | ${entry.percent.toFixed(1)} |`,
    );
  return [
    `busy CPU time in the profile: ${summary.totalMs.toFixed(0)} ms`,
    '',
    '| function (self time) | ms | % |',
    '| --- | ---: | ---: |',
    ...rows(summary.functions),
    '',
    '| file or package (self time) | ms | % |',
    '| --- | ---: | ---: |',
    ...rows(summary.files),
  ].join('\n');
}

/** Reads and summarizes one .cpuprofile file. */
export function summarizeProfileFile(path: string, count = 15): ProfileSummary {
  return summarizeProfile(JSON.parse(readFileSync(path, 'utf8')), count);
}

/** Node flags that write a CPU profile of the whole process into `dir` when it exits. */
export function cpuProfileArgs(dir: string): string[] {
  return ['--cpu-prof', `--cpu-prof-dir=${dir}`];
}

/** Prints the top costs of the newest profile in `dir` (after the profiled process exited). */
export function printNewestProfile(dir: string, log: (text: string) => void = console.log): void {
  let path: string | undefined;
  try {
    path = newestProfile(dir);
  } catch {
    path = undefined;
  }
  if (path === undefined) {
    log(`no CPU profile was written to ${dir}`);
    return;
  }
  log(`\nCPU profile: ${path}\n${profileTables(summarizeProfileFile(path))}\n`);
}
