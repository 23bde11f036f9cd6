import type { BenchResults } from '../results';
import { Canvas, Rgb } from './png';

const WIDTH = 1000;
const HEIGHT = 560;
const INK: Rgb = [30, 30, 30];
const GRID: Rgb = [225, 225, 225];
const MUTED: Rgb = [110, 110, 110];
const WHITE: Rgb = [255, 255, 255];
const TARGET: Rgb = [200, 40, 40];
const SERVICE: Rgb = [46, 110, 180];
const PERCENTILE_COLOURS: readonly Rgb[] = [
  [120, 170, 220],
  [46, 110, 180],
  [20, 50, 110],
];

interface Panel {
  readonly x: number;
  readonly y: number;
  readonly w: number;
  readonly h: number;
}

function frame(c: Canvas, p: Panel, title: string): void {
  c.text(p.x + p.w / 2, p.y - 46, title, INK, 2, 'center');
  c.vline(p.x, p.y, p.y + p.h, INK);
  c.hline(p.x, p.x + p.w, p.y + p.h, INK);
}

/** Service / Kafka tool ratios as bars, each with its target as a red dashed line and 1.0 as a grey one. */
function ratiosPanel(c: Canvas, r: BenchResults, p: Panel): void {
  frame(c, p, 'THROUGHPUT: SERVICE / KAFKA TOOL');
  const bars = [
    { label: 'PRODUCER', value: r.producer?.median.ratio, target: 0.9 },
    { label: 'CONSUMER', value: r.consumer?.median.ratio, target: 0.8 },
  ];
  const top = Math.max(1.2, ...bars.map((b) => (b.value ?? 0) * 1.1));
  const yOf = (v: number) => p.y + p.h - (v / top) * p.h;
  const step = top > 2.4 ? 0.5 : 0.2;
  for (let v = 0; v <= top + 1e-9; v += step) {
    c.hline(p.x + 1, p.x + p.w, yOf(v), GRID);
    c.text(p.x - 8, yOf(v) - 3, v.toFixed(1), MUTED, 1, 'right');
  }
  c.hline(p.x + 1, p.x + p.w, yOf(1), MUTED, 1, 4);
  const slot = p.w / bars.length;
  bars.forEach((b, i) => {
    const cx = p.x + slot * (i + 0.5);
    const bw = slot * 0.45;
    if (b.value !== undefined) {
      const top = yOf(b.value);
      c.fillRect(cx - bw / 2, top, bw, p.y + p.h - top, SERVICE);
      // The value inside the top of its bar (white), or above a bar too short to hold it.
      const inside = p.y + p.h - top > 30;
      c.text(cx, inside ? top + 8 : top - 20, `${b.value.toFixed(2)}×`, inside ? WHITE : INK, 2, 'center');
    } else {
      c.text(cx, p.y + p.h - 30, 'NOT RUN', MUTED, 2, 'center');
    }
    // Over the bar, so a bar above its target still shows where the target is.
    c.hline(cx - bw / 2 - 10, cx + bw / 2 + 10, yOf(b.target), TARGET, 2, 6);
    c.text(cx + bw / 2 + 14, yOf(b.target) - 3, `TARGET ${b.target.toFixed(1)}`, TARGET, 1);
    c.text(cx, p.y + p.h + 12, b.label, INK, 2, 'center');
  });
}

/** p50 / p99 / p99.9 per side on a log scale (1 ms to the next power of ten), the 25 ms target dashed. */
function latencyPanel(c: Canvas, r: BenchResults, p: Panel): void {
  frame(c, p, 'END-TO-END LATENCY (MS, LOG SCALE)');
  const groups = [
    ...(r.latency?.service ?? []).map((l) => ({ label: `SERVICE ${l.rate}/S`, v: l.median })),
    ...(r.latency ? [{ label: 'KAFKA E2E TOOL', v: r.latency.kafka.median }] : []),
  ];
  const highest = Math.max(10, ...groups.flatMap((g) => [g.v.p50, g.v.p99, g.v.p999]));
  const decades = Math.ceil(Math.log10(highest));
  const yOf = (ms: number) => p.y + p.h - (Math.log10(Math.max(1, ms)) / decades) * p.h;
  for (let d = 0; d <= decades; d++) {
    c.hline(p.x + 1, p.x + p.w, yOf(10 ** d), GRID);
    c.text(p.x - 8, yOf(10 ** d) - 3, String(10 ** d), MUTED, 1, 'right');
  }
  c.hline(p.x + 1, p.x + p.w, yOf(25), TARGET, 2, 6);
  if (groups.length === 0) c.text(p.x + p.w / 2, p.y + p.h / 2, 'NOT RUN', MUTED, 2, 'center');
  const slot = p.w / Math.max(1, groups.length);
  groups.forEach((g, i) => {
    const cx = p.x + slot * (i + 0.5);
    const bw = Math.min(36, slot / 4.5);
    [g.v.p50, g.v.p99, g.v.p999].forEach((v, j) => {
      const x = cx + (j - 1.5) * (bw + 4) + 2;
      c.fillRect(x, yOf(v), bw, p.y + p.h - yOf(v), PERCENTILE_COLOURS[j]);
      c.text(x + bw / 2, yOf(v) - 11, String(v), INK, 1, 'center');
    });
    c.text(cx, p.y + p.h + 12, g.label, INK, 1, 'center');
  });
  // Legend, above the plot so it never covers a bar.
  ['P50', 'P99', 'P99.9'].forEach((name, j) => {
    const lx = p.x + j * 62;
    c.fillRect(lx, p.y - 18, 12, 12, PERCENTILE_COLOURS[j]);
    c.text(lx + 16, p.y - 15, name, INK, 1);
  });
  c.hline(p.x + 196, p.x + 220, p.y - 12, TARGET, 2, 6);
  c.text(p.x + 226, p.y - 15, 'P99 TARGET AT 1000/S: 25 MS', TARGET, 1);
}

/** The bench chart: throughput ratios on the left, latency percentiles on the right. */
export function renderChart(r: BenchResults): Canvas {
  const c = new Canvas(WIDTH, HEIGHT);
  const m = r.machine;
  c.text(WIDTH / 2, 16, 'KAFKA PLATFORM BENCH', INK, 3, 'center');
  c.text(
    WIDTH / 2,
    48,
    `${r.startedAt.slice(0, 16).replace('T', ' ')} UTC, ${m.cpus} CPU, LOAD ${m.loadAverage.start.toFixed(1)}, MEDIANS OF ${r.settings.runs} RUNS, ${r.settings.partitions} PARTITIONS RF ${r.settings.replicationFactor}`,
    MUTED,
    1,
    'center',
  );
  ratiosPanel(c, r, { x: 70, y: 120, w: 360, h: 360 });
  latencyPanel(c, r, { x: 540, y: 120, w: 420, h: 360 });
  const met = r.targets.filter((t) => t.met).length;
  c.text(WIDTH / 2, HEIGHT - 26, `TARGETS MET: ${met} OF ${r.targets.length}`, met === r.targets.length ? SERVICE : TARGET, 2, 'center');
  return c;
}
