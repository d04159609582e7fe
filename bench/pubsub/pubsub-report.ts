// The pub/sub bench's own table: per broker, mode and candidate, delivered messages per second
// and the delivery latency measured at the subscriber, next to the generator's round trip and
// the CPU that taprd and the subscriber spent per message. A bulk candidate's mode reads
// `closed c=4 ×100`: 4 ops in flight of 100 messages each; its figures are per message.
import { type ComparisonSummary, modeName } from '../harness/runner.js';
import type { Spread } from '../harness/stats.js';
import type { LoadMode } from '../harness/types.js';
import type { PubsubCandidateSummary, PubsubOutcome } from './rounds.js';

function num(value: number, digits: number): string {
  if (!Number.isFinite(value)) return '–';
  return digits === 0 ? String(Math.round(value)) : value.toFixed(digits);
}

function withRange(value: Spread, digits: number): string {
  if (value.n <= 1) return num(value.median, digits);
  return `${num(value.median, digits)} (${num(value.min, digits)}–${num(value.max, digits)})`;
}

function cpu(summary: PubsubCandidateSummary, process: string): string {
  return num(summary.processes[process]?.cpuMicrosPerOp.median ?? Number.NaN, 0);
}

/** The mode, with the messages per op of a bulk candidate. */
function modeText(mode: LoadMode, messagesPerOp: number): string {
  return messagesPerOp === 1 ? modeName(mode) : `${modeName(mode)} ×${messagesPerOp}`;
}

/** The process between publisher and subscriber: taprd, a floor relay, or none (direct). */
function middleProcess(summary: PubsubCandidateSummary): string | undefined {
  if (summary.candidate.startsWith('direct')) return undefined;
  if (summary.candidate === 'relay-http') return 'relay';
  if (summary.candidate.startsWith('relay-')) return `relay-${summary.workload}`;
  return `taprd-${summary.workload}`;
}

function row(summary: PubsubCandidateSummary): string {
  const middle = middleProcess(summary);
  const taprd = middle === undefined ? '–' : cpu(summary, middle);
  return [
    summary.workload,
    modeText(summary.mode, summary.messagesPerOp),
    summary.candidate,
    withRange(summary.opsPerSecond, 0),
    num(summary.p50Ms.median, 2),
    num(summary.p90Ms.median, 2),
    withRange(summary.p99Ms, 2),
    num(summary.roundTripP99Ms.median, 2),
    taprd,
    cpu(summary, 'subscriber'),
    String(summary.errors + summary.dropped),
    String(summary.duplicates),
  ].join(' | ');
}

/** The delivery table of a run, as Markdown. */
export function deliveryTable(outcome: PubsubOutcome): string {
  return [
    '| broker | mode | candidate | delivered msg/s median (min–max) | delivery p50 ms | p90 ms | p99 ms (min–max) | round trip p99 ms | taprd (relay) CPU µs/msg | subscriber CPU µs/msg | errors | duplicates |',
    '| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...outcome.summaries.map((summary) => `| ${row(summary)} |`),
  ].join('\n');
}

function comparisonRow(outcome: PubsubOutcome, comparison: ComparisonSummary): string {
  const side = outcome.summaries.find(
    (summary) =>
      summary.workload === comparison.workload &&
      summary.candidate === comparison.candidate &&
      modeName(summary.mode) === modeName(comparison.mode),
  );
  return [
    comparison.workload,
    modeText(comparison.mode, side?.messagesPerOp ?? 1),
    `${comparison.candidate} / ${comparison.baseline}` +
      (comparison.reference === undefined ? '' : ` (${comparison.reference})`),
    withRange(comparison.throughput.ratio, 2),
    withRange(comparison.p50Ms.difference, 2),
    withRange(comparison.p90Ms.difference, 2),
    withRange(comparison.p99Ms.difference, 2),
  ].join(' | ');
}

/** Each taprd candidate against its broker's direct baseline, per round first, as Markdown. */
export function comparisonTable(outcome: PubsubOutcome): string {
  return [
    '| broker | mode | candidate / baseline | throughput ratio (min–max) | added delivery p50 ms | added p90 ms (min–max) | added p99 ms (min–max) |',
    '| --- | --- | --- | ---: | ---: | ---: | ---: |',
    ...outcome.comparisons.map((comparison) => `| ${comparisonRow(outcome, comparison)} |`),
  ].join('\n');
}
