// The chart: a query_range answer laid on the step grid, drawn by uPlot (loaded by index.html
// as the global uPlot), and the same table as CSV.

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2',
  '#17becf', '#7f7f7f', '#bcbd22'];

// seriesLabel names a series by its group-by values, "host=a, page=home", in the order of
// groupBy; a chart without group-by has one series named after the function and metric.
export function seriesLabel(metric, groupBy, fallback) {
  if (!groupBy.length) return fallback;
  return groupBy.map((k) => `${k}=${metric[k] ?? ''}`).join(', ');
}

// gridData lays the answer on x = start, start+step, …, end: one array per series, null where
// the series has no point. Series are sorted by label so colours and CSV columns are stable.
export function gridData(result, start, end, step, labelOf) {
  const n = Math.round((end - start) / step) + 1;
  const x = Array.from({ length: n }, (_, i) => start + i * step);
  const series = result.map((r) => {
    const y = new Array(n).fill(null);
    for (const [t, v] of r.values) {
      const i = Math.round((t - start) / step);
      if (i >= 0 && i < n) y[i] = Number(v);
    }
    return { label: labelOf(r.metric), metric: r.metric, y };
  });
  series.sort((a, b) => (a.label < b.label ? -1 : a.label > b.label ? 1 : 0));
  return { x, series };
}

// isolated returns the indices of points without a neighbour, which a line cannot show.
function isolated(y) {
  const out = [];
  for (let i = 0; i < y.length; i++) {
    if (y[i] != null && (i === 0 || y[i - 1] == null) && (i === y.length - 1 || y[i + 1] == null)) out.push(i);
  }
  return out;
}

// yRange starts the y axis at zero unless values are negative, so heights compare.
function yRange(u, min, max) {
  const lo = Math.min(0, min ?? 0);
  const hi = Math.max(0, max ?? 1);
  const pad = (hi - lo || 1) * 0.08;
  return [lo < 0 ? lo - pad : 0, hi + pad];
}

function formatValue(v) {
  if (v == null) return '—';
  if (Math.abs(v) >= 1e6 || (v !== 0 && Math.abs(v) < 1e-3)) return v.toExponential(3);
  return String(Math.round(v * 1000) / 1000);
}

export class Chart {
  // el: the container; onZoom(from, to) is called with Unix seconds after a drag.
  constructor(el, onZoom) {
    this.el = el;
    this.onZoom = onZoom;
    this.plot = null;
    this.data = { x: [], series: [] };
  }

  size() {
    return { width: Math.max(this.el.clientWidth, 300), height: 360 };
  }

  // set draws the data (a new uPlot when the series change, new data otherwise).
  set(data) {
    const same = this.plot && this.data.series.length === data.series.length &&
      this.data.series.every((s, i) => s.label === data.series[i].label);
    this.data = data;
    const aligned = [data.x, ...data.series.map((s) => s.y)];
    if (same) {
      this.plot.setData(aligned);
      return;
    }
    if (this.plot) this.plot.destroy();
    const opts = {
      ...this.size(),
      cursor: { drag: { x: true, y: false, setScale: false } },
      scales: { x: { time: true }, y: { range: yRange } },
      legend: { live: true },
      series: [
        {},
        ...data.series.map((s, i) => ({
          label: s.label,
          stroke: PALETTE[i % PALETTE.length],
          width: 1.5,
          spanGaps: false,
          value: (u, v) => formatValue(v),
          points: {
            size: 7, fill: PALETTE[i % PALETTE.length],
            filter: (u, si, show) => (show ? null : isolated(u.data[si])),
          },
        })),
      ],
      axes: [{}, { size: 70, values: (u, vals) => vals.map(formatValue) }],
      hooks: {
        setSelect: [(u) => {
          if (u.select.width < 2) return;
          const from = u.posToVal(u.select.left, 'x');
          const to = u.posToVal(u.select.left + u.select.width, 'x');
          u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
          this.onZoom(Math.floor(from), Math.ceil(to));
        }],
      },
    };
    this.plot = new window.uPlot(opts, aligned, this.el);
  }

  // shown is what uPlot holds: its x values and each series' label, colour, labels and values.
  shown() {
    if (!this.plot) return { x: [], series: [] };
    const d = this.plot.data;
    return {
      x: d[0],
      series: this.plot.series.slice(1).map((s, i) => ({
        label: s.label, stroke: PALETTE[i % PALETTE.length], metric: this.data.series[i].metric, y: d[i + 1],
      })),
    };
  }

  resize() {
    if (this.plot) this.plot.setSize(this.size());
  }

  // csv is the chart as a table: time (RFC 3339, UTC), Unix seconds, one column per series.
  csv() {
    const cell = (s) => (/[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
    const lines = [['time', 'unix', ...this.data.series.map((s) => s.label)].map(cell).join(',')];
    this.data.x.forEach((t, i) => {
      const row = [new Date(t * 1000).toISOString(), String(t)];
      for (const s of this.data.series) row.push(s.y[i] == null ? '' : String(s.y[i]));
      lines.push(row.join(','));
    });
    return lines.join('\n') + '\n';
  }
}
