// Renders a Vega-Lite spec (stdin, JSON) to SVG with Vega's headless renderer and to PNG with
// resvg, using the DejaVu fonts from npm so the PNG looks the same on every machine.
// Prints {"svg": ..., "png": <base64>}. An ES module: vega and vega-lite ship no CommonJS.
import { createRequire } from 'node:module';
import * as path from 'node:path';
import * as fs from 'node:fs';
import { compile } from 'vega-lite';
import { parse, View } from 'vega';

const require = createRequire(import.meta.url);
const { Resvg } = require('@resvg/resvg-js');

const spec = JSON.parse(fs.readFileSync(0, 'utf8'));
const view = new View(parse(compile(spec).spec), { renderer: 'none' });
const svg = await view.toSVG();
view.finalize();
const fonts = path.join(path.dirname(require.resolve('dejavu-fonts-ttf/package.json')), 'ttf');
const png = new Resvg(svg, {
  font: { loadSystemFonts: false, fontFiles: ['DejaVuSans.ttf', 'DejaVuSans-Bold.ttf'].map((f) => path.join(fonts, f)), defaultFontFamily: 'DejaVu Sans' },
}).render().asPng();
process.stdout.write(JSON.stringify({ svg, png: Buffer.from(png).toString('base64') }));
