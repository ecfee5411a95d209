// PromQL for the page's choices, and the resolution (step) of a chart.

// The functions offered, each a per-series range function over one step and the aggregation
// that combines the series of a group. `sum` and `count` add up, so summing a chart's points
// gives the total over its range; `rate` is that total per second.
export const FUNCTIONS = {
  rate: { range: 'rate', agg: 'sum', title: 'per second: sum of the series\' rates' },
  sum: { range: 'sum_over_time', agg: 'sum', title: 'sum of the values in each step' },
  avg: { range: 'avg_over_time', agg: 'avg', title: 'average value in each step' },
  min: { range: 'min_over_time', agg: 'min', title: 'smallest value in each step' },
  max: { range: 'max_over_time', agg: 'max', title: 'largest value in each step' },
  count: { range: 'count_over_time', agg: 'sum', title: 'number of points (rows) in each step' },
};

const PLAIN_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

// A PromQL string literal. JSON's escapes are a subset of PromQL's (Go's) escapes.
export function quote(s) {
  return JSON.stringify(s);
}

// A label name as PromQL accepts it: bare when it is a classic name, quoted otherwise
// (DogStatsD tag keys and OTel attribute names often have dots: "host.name").
export function labelName(name) {
  return PLAIN_NAME.test(name) ? name : quote(name);
}

// RE2 escaping of a literal value inside =~ / !~.
export function regexLiteral(v) {
  return v.replace(/[\\.+*?()|[\]{}^$]/g, '\\$&');
}

// selector builds {"metric", key=~"a|b", other!~"c"} from the tag filters
// ({key: {values: [...], negate: bool}}); keys without values are left out.
export function selector(metric, filters) {
  const parts = [quote(metric)];
  for (const key of Object.keys(filters).sort()) {
    const f = filters[key];
    if (!f.values.length) continue;
    const op = f.negate ? '!~' : '=~';
    const re = [...f.values].sort().map(regexLiteral).join('|');
    parts.push(`${labelName(key)}${op}${quote(re)}`);
  }
  return `{${parts.join(', ')}}`;
}

// rangeQuery is the query of a chart: fn over one step per series, aggregated by the group-by
// keys (one line per group, or one line without them).
export function rangeQuery({ metric, fn, filters, groupBy }, stepSeconds) {
  const f = FUNCTIONS[fn] || FUNCTIONS.sum;
  const inner = `${f.range}(${selector(metric, filters)}[${stepSeconds}s])`;
  const by = groupBy.length ? ` by (${[...groupBy].sort().map(labelName).join(', ')})` : '';
  return `${f.agg}${by} (${inner})`;
}

// samplingQuery asks for the largest sampling factor the fairshare processor reported for the
// metric over the chart's range, in one instant query at the range's end.
export function samplingQuery(metric, rangeSeconds) {
  return `max(max_over_time({"fairshare.sampling.factor", "metric.name"=${quote(metric)}}[${rangeSeconds}s]))`;
}

// Steps a chart may use, in seconds. From a minute up they are whole minutes, so that a chart
// whose start is aligned to its step is answered from the 1-minute (or 1-hour) rollup tier.
export const STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400];

// chooseStep picks the smallest step that gives at most one point per pixel column of a chart
// `width` pixels wide over `rangeSeconds`; ranges wider than a day per pixel use whole days.
export function chooseStep(rangeSeconds, width) {
  const raw = rangeSeconds / Math.max(width, 1);
  for (const s of STEPS) {
    if (s >= raw) return s;
  }
  return Math.ceil(raw / 86400) * 86400;
}

// alignRange widens [from, to] (Unix seconds) to whole steps: the start down and the end up,
// so every point covers exactly one step (start − step, start] … (end − step, end] and the
// current, partly filled step is shown.
export function alignRange(from, to, step) {
  const start = Math.floor(from / step) * step;
  const end = Math.max(start, Math.ceil(to / step) * step);
  return { start, end };
}
