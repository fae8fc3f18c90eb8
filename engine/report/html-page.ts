// The shell of crosstalk's HTML reports: one self-contained file with uPlot and its stylesheet
// inlined from the npm package (read at render time, so the file opens offline and in CI
// artifacts), the charts' data as JSON, and a small script that draws each chart and records in
// the DOM what it drew (points, series sums) and any script error, for people and tests alike.
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'

/** One line of a chart: a value per x (null: no data that second). */
export interface ChartSeries {
  label: string
  values: Array<number | null>
  color: string
  /** drawn dashed: a plan or a fitted line, not a measurement */
  dashed?: boolean
  /** dots at each point: sparse readings (heap samples) */
  points?: boolean
}

/** A chart as data: the script draws it with uPlot; its id names the figure in the DOM. */
export interface ChartSpec {
  id: string
  title: string
  xLabel: string
  yLabel: string
  x: number[]
  series: ChartSeries[]
  /** a line under the chart: the verdict, the interval, what was left out */
  caption?: string
  /** x ranges shaded behind the lines (outages), in x's units */
  bands?: Array<{ from: number, to: number, label: string }>
}

/** A colour per series, in order (colour-blind safe: Okabe-Ito). */
export const PALETTE = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#000000', '#F0E442'] as const

export function paletteColor (i: number): string {
  return PALETTE[i % PALETTE.length]!
}

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }

/** Text safe in HTML content and attribute values. */
export function escapeHtml (s: string): string {
  return s.replace(/[&<>"']/g, c => HTML_ESCAPES[c]!)
}

/** JSON safe inside a <script> element: no `</script>` or `<!--` can close or confuse it. */
function scriptJson (value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029')
}

let uplotAssets: { js: string, css: string } | undefined

/** uPlot's browser build and stylesheet, from the installed package (read once per process). */
function uplot (): { js: string, css: string } {
  if (uplotAssets === undefined) {
    const require = createRequire(import.meta.url)
    const read = (file: string): string => readFileSync(require.resolve(`uplot/dist/${file}`), 'utf8')
    uplotAssets = { js: read('uPlot.iife.min.js'), css: read('uPlot.min.css') }
  }
  return uplotAssets
}

const STYLE = `
body { font: 14px/1.45 system-ui, -apple-system, 'Segoe UI', sans-serif; margin: 0 auto; padding: 16px 24px; max-width: 1180px; color: #1b1f24; background: #fff; }
h1 { font-size: 22px; margin: 8px 0 4px; } h2 { font-size: 17px; margin: 28px 0 8px; border-bottom: 1px solid #d8dee4; padding-bottom: 4px; }
.status { display: inline-block; padding: 2px 10px; border-radius: 12px; font-weight: 600; color: #fff; }
.status.passed, .status.pass { background: #1a7f37; } .status.failed, .status.fail { background: #cf222e; } .status.interrupted, .status.inconclusive { background: #9a6700; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 10px 0; } dl.facts dt { color: #57606a; } dl.facts dd { margin: 0; }
table { border-collapse: collapse; margin: 6px 0 12px; } th, td { border: 1px solid #d8dee4; padding: 3px 8px; text-align: left; vertical-align: top; } th { background: #f6f8fa; }
td.num { text-align: right; font-variant-numeric: tabular-nums; } .ok { color: #1a7f37; } .bad { color: #cf222e; font-weight: 600; }
div.charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(520px, 1fr)); gap: 4px 28px; }
figure.chart { margin: 8px 0 16px; min-width: 0; } figure.chart figcaption { color: #57606a; font-size: 13px; margin-top: 2px; }
figure.chart h3 { font-size: 15px; margin: 0 0 4px; } code, pre { font: 12px/1.4 ui-monospace, 'SFMono-Regular', Menlo, monospace; }
ul.lines { padding-left: 20px; margin: 4px 0; } #console-errors { color: #cf222e; white-space: pre-wrap; }
`

/**
 * The drawing script: plain ES2020 for any current browser. It reports its own failures into
 * #console-errors (and counts them on <body data-errors>), so a headless browser's DOM dump
 * shows them; each figure gets data-rendered (points drawn) and data-sums (each series' sum).
 */
const CLIENT = `
(function () {
  var errors = document.getElementById('console-errors');
  var count = 0;
  function report (msg) { count++; errors.hidden = false; errors.textContent += msg + '\\n'; document.body.setAttribute('data-errors', String(count)); }
  window.addEventListener('error', function (e) { report('error: ' + (e.message || (e.target && e.target.src) || 'resource failed to load')); }, true);
  window.addEventListener('unhandledrejection', function (e) { report('unhandled rejection: ' + e.reason); });
  var consoleError = console.error;
  console.error = function () { report('console.error: ' + Array.prototype.join.call(arguments, ' ')); consoleError.apply(console, arguments); };
  try {
    var data = JSON.parse(document.getElementById('chart-data').textContent);
    data.charts.forEach(function (c) {
      var figure = document.getElementById('chart-' + c.id);
      var width = Math.max(360, Math.min(1120, figure.clientWidth || 540));
      var series = [{ label: c.xLabel }].concat(c.series.map(function (s) {
        return { label: s.label, stroke: s.color, width: 1.5, dash: s.dashed ? [6, 4] : undefined, points: s.points ? { show: true, size: 6 } : {}, spanGaps: !!s.points };
      }));
      var bands = c.bands || [];
      // shaded ranges (outages) drawn under the series, clipped to the plot area
      var shade = function (u) {
        var ctx = u.ctx;
        ctx.save();
        ctx.fillStyle = 'rgba(207, 34, 46, 0.14)';
        bands.forEach(function (b) {
          var x0 = Math.max(u.bbox.left, u.valToPos(b.from, 'x', true));
          var x1 = Math.min(u.bbox.left + u.bbox.width, u.valToPos(b.to, 'x', true));
          if (x1 > x0) ctx.fillRect(x0, u.bbox.top, x1 - x0, u.bbox.height);
        });
        ctx.restore();
      };
      var opts = { width: width, height: 220, scales: { x: { time: false } }, series: series, axes: [{ label: c.xLabel }, { label: c.yLabel, size: 60 }], legend: { live: true }, hooks: { drawAxes: [shade] } };
      var plot = new uPlot(opts, [c.x].concat(c.series.map(function (s) { return s.values; })), figure.querySelector('.plot'));
      var sums = c.series.map(function (s) { return s.values.reduce(function (a, v) { return a + (v === null ? 0 : v); }, 0); });
      figure.setAttribute('data-rendered', String(plot.data[0].length));
      figure.setAttribute('data-sums', JSON.stringify(sums));
      figure.setAttribute('data-bands-drawn', String(bands.length));
    });
    document.body.setAttribute('data-charts', String(data.charts.length));
  } catch (e) {
    report('chart script: ' + (e && e.stack ? e.stack : e));
  }
})();
`

/** A figure for a chart: the script fills its .plot; data-points is what it should draw. */
export function chartFigure (c: ChartSpec): string {
  const caption = c.caption === undefined ? '' : `<figcaption>${escapeHtml(c.caption)}</figcaption>`
  const bands = c.bands === undefined || c.bands.length === 0 ? '' : ` data-bands="${c.bands.length}"`
  return `<figure class="chart" id="chart-${escapeHtml(c.id)}" data-points="${c.x.length}" data-series="${c.series.length}"${bands}><h3>${escapeHtml(c.title)}</h3><div class="plot"></div>${caption}</figure>`
}

/** The whole document: head with inlined styles, the body, the charts' data and the scripts. */
export function renderPage (title: string, body: string, charts: readonly ChartSpec[]): string {
  const { js, css } = uplot()
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">
<title>${escapeHtml(title)}</title>
<style>${css}</style>
<style>${STYLE}</style>
</head>
<body data-errors="0">
<pre id="console-errors" hidden></pre>
${body}
<script type="application/json" id="chart-data">${scriptJson({ charts })}</script>
<script>${js}</script>
<script>${CLIENT}</script>
</body>
</html>
`
}
