import * as fs from 'fs';
import * as path from 'path';
import type { BenchResults } from '../results';
import { renderChart } from './chart';
import { renderMarkdown } from './markdown';

export interface WrittenReport {
  readonly json: string;
  readonly markdown: string;
  readonly png: string;
  readonly svg: string;
}

/** Writes latest.json, latest.md and latest.png (the chart the table embeds, with its SVG source) into `dir`. */
export function writeReport(results: BenchResults, dir: string): WrittenReport {
  fs.mkdirSync(dir, { recursive: true });
  const written = { json: path.join(dir, 'latest.json'), markdown: path.join(dir, 'latest.md'), png: path.join(dir, 'latest.png'), svg: path.join(dir, 'latest.svg') };
  fs.writeFileSync(written.json, JSON.stringify(results, null, 2) + '\n');
  fs.writeFileSync(written.markdown, renderMarkdown(results, path.basename(written.png)));
  const chart = renderChart(results);
  fs.writeFileSync(written.png, chart.png);
  fs.writeFileSync(written.svg, chart.svg);
  return written;
}
