import { execFileSync } from 'child_process';
import * as path from 'path';
import type { BenchResults } from '../results';

/** Colours the chart uses, so a reader of the PNG can find each kind of mark. */
export const COLOURS = {
  ink: '#1e1e1e',
  muted: '#6e6e6e',
  target: '#c82828',
  service: '#2e6eb4',
  percentiles: ['#78aadc', '#2e6eb4', '#14326e'],
} as const;
const FONT = 'DejaVu Sans';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Spec = Record<string, any>;

/** A "not run" note in the middle of an empty panel. */
function notRun(): Spec {
  return { data: { values: [{ note: 'not run' }] }, mark: { type: 'text', fontSize: 16, color: COLOURS.muted }, encoding: { text: { field: 'note' } } };
}

/** Service / Kafka tool throughput ratios as bars, each side's target as a red tick, 1.0 as a grey rule. */
function ratiosPanel(r: BenchResults): Spec {
  const sides = [
    { side: 'producer', ratio: r.producer?.median.ratio, target: 0.9 },
    { side: 'consumer', ratio: r.consumer?.median.ratio, target: 0.8 },
  ];
  const values = sides.filter((s) => s.ratio !== undefined).map((s) => ({ ...s, label: `${s.ratio!.toFixed(2)}×`, targetLabel: `target ${s.target.toFixed(1)}` }));
  const top = Math.max(1.2, ...values.map((v) => v.ratio! * 1.1));
  const x = { field: 'side', type: 'nominal', sort: ['producer', 'consumer'], axis: { title: null, labelAngle: 0, labelFontSize: 14 }, scale: { domain: ['producer', 'consumer'] } };
  const y = { field: 'ratio', type: 'quantitative', scale: { domain: [0, top] }, axis: { title: 'service / Kafka tool', titleFontSize: 13 } };
  return {
    title: { text: 'Throughput: service / Kafka tool', fontSize: 16 },
    width: 360,
    height: 360,
    layer: [
      { data: { values: [{ one: 1 }] }, mark: { type: 'rule', color: COLOURS.muted, strokeDash: [4, 4] }, encoding: { y: { field: 'one', type: 'quantitative', scale: { domain: [0, top] } } } },
      ...(values.length === 0
        ? [notRun()]
        : [
            { data: { values }, mark: { type: 'bar', color: COLOURS.service, width: 80 }, encoding: { x, y } },
            { data: { values }, mark: { type: 'text', dy: -10, fontSize: 15, color: COLOURS.ink }, encoding: { x, y, text: { field: 'label' } } },
            { data: { values }, mark: { type: 'tick', color: COLOURS.target, opacity: 1, thickness: 3, size: 120 }, encoding: { x, y: { ...y, field: 'target' } } },
            { data: { values }, mark: { type: 'text', align: 'left', dx: 62, dy: -8, fontSize: 12, color: COLOURS.target }, encoding: { x, y: { ...y, field: 'target' }, text: { field: 'targetLabel' } } },
          ]),
    ],
  };
}

/** p50 / p99 / p99.9 per side on a log scale, with the p99 target at 1,000 msg/s as a red dashed rule. */
function latencyPanel(r: BenchResults): Spec {
  const groups = [
    ...(r.latency?.service ?? []).map((l) => ({ group: `service ${l.rate.toLocaleString('en-US')}/s`, v: l.median })),
    ...(r.latency ? [{ group: 'EndToEndLatency', v: r.latency.kafka.median }] : []),
  ];
  const values = groups.flatMap((g) =>
    (['p50', 'p99', 'p99.9'] as const).map((percentile, i) => {
      const ms = [g.v.p50, g.v.p99, g.v.p999][i];
      return { group: g.group, percentile, ms: Math.max(1, ms), label: String(ms) };
    }),
  );
  const highest = Math.max(10, ...values.map((v) => v.ms));
  const domain = [1, 10 ** Math.ceil(Math.log10(highest))];
  const x = { field: 'group', type: 'nominal', sort: groups.map((g) => g.group), axis: { title: null, labelAngle: 0, labelFontSize: 13, labelLimit: 200 } };
  const y = { field: 'ms', type: 'quantitative', scale: { type: 'log', domain }, axis: { title: 'milliseconds (log scale)', titleFontSize: 13 } };
  const colour = { field: 'percentile', type: 'nominal', scale: { domain: ['p50', 'p99', 'p99.9'], range: COLOURS.percentiles }, legend: { title: null, orient: 'top', labelFontSize: 13 } };
  const offset = { field: 'percentile', sort: ['p50', 'p99', 'p99.9'] };
  return {
    title: { text: 'End-to-end latency', fontSize: 16, subtitle: 'red dashed line: the p99 target at 1,000 msg/s, 25 ms', subtitleColor: COLOURS.target, subtitleFontSize: 12 },
    width: 420,
    height: 360,
    layer: [
      ...(values.length === 0
        ? [notRun()]
        : [
            // Bars grow from 1 ms, the bottom of the log scale.
            { data: { values }, mark: { type: 'bar', opacity: 1 }, encoding: { x, y, y2: { datum: 1 }, xOffset: offset, color: colour } },
            { data: { values }, mark: { type: 'text', dy: -8, fontSize: 11, color: COLOURS.ink }, encoding: { x, y, xOffset: offset, text: { field: 'label' } } },
          ]),
      { data: { values: [{ ms: 25 }] }, mark: { type: 'rule', color: COLOURS.target, strokeWidth: 2, strokeDash: [6, 4] }, encoding: { y: { ...y } } },
    ],
  };
}

/** The bench chart as a Vega-Lite spec: throughput ratios on the left, latency percentiles on the right. */
export function chartSpec(r: BenchResults): Spec {
  const m = r.machine;
  const met = r.targets.filter((t) => t.met).length;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: {
      text: 'Kafka platform bench',
      fontSize: 22,
      subtitle: [
        `${r.startedAt.slice(0, 16).replace('T', ' ')} UTC, ${m.cpus} CPUs, load ${m.loadAverage.start.toFixed(1)}, medians of ${r.settings.runs} runs, ${r.settings.partitions} partitions, RF ${r.settings.replicationFactor}`,
        `targets met: ${met} of ${r.targets.length}`,
      ],
      subtitleFontSize: 13,
      subtitleColor: COLOURS.muted,
      anchor: 'middle',
    },
    padding: 20,
    background: 'white',
    config: { font: FONT, view: { stroke: null }, axis: { labelColor: COLOURS.ink, titleColor: COLOURS.ink, labelFontSize: 12 }, title: { color: COLOURS.ink } },
    hconcat: [ratiosPanel(r), latencyPanel(r)],
    resolve: { legend: { color: 'independent' } },
    spacing: 90,
  };
}

/** The rendered chart: Vega's SVG and resvg's PNG of it. */
export interface RenderedChart {
  readonly svg: string;
  readonly png: Buffer;
}

/**
 * Renders the chart with Vega-Lite, Vega's headless SVG renderer and resvg, in a Node.js child
 * process: those packages are ES modules only, which a CommonJS caller (jest) cannot load.
 */
export function renderChart(r: BenchResults): RenderedChart {
  const out = execFileSync(process.execPath, [path.join(__dirname, 'render.mjs')], { input: JSON.stringify(chartSpec(r)), maxBuffer: 64 * 1024 * 1024 });
  const parsed = JSON.parse(out.toString()) as { svg: string; png: string };
  return { svg: parsed.svg, png: Buffer.from(parsed.png, 'base64') };
}
