// The page: controls, URL state, and the chart's refresh cycle.

import * as api from './api.js';
import { Chart, gridData, seriesLabel } from './chart.js';
import { alignRange, chooseStep, FUNCTIONS, rangeQuery, samplingQuery, selector } from './promql.js';
import { emptyState, formatState, parseState, timeRange } from './state.js';

const PRESETS = [[300, '5m'], [900, '15m'], [3600, '1h'], [10800, '3h'], [43200, '12h'],
  [86400, '24h'], [604800, '7d'], [2592000, '30d']];
const LIVE = [[0, 'live: off'], [5, 'live: 5s'], [15, 'live: 15s'], [60, 'live: 1m']];
const MAX_SUGGESTIONS = 50;
const MAX_TAG_VALUES = 200;
// Pixels of the chart's width taken by the y axis; the rest is the plotting area whose columns
// the step is chosen for.
const AXIS_WIDTH = 80;

const $ = (id) => document.getElementById(id);
const el = (tag, props = {}, ...children) => {
  const e = Object.assign(document.createElement(tag), props);
  e.append(...children);
  return e;
};

let state = parseState(window.location.search);
let names = [];
let seq = 0; // the latest refresh; answers of older ones are dropped
let liveTimer = null;
let csvURL = null;
const chart = new Chart($('chart'), (from, to) => update({ from, to, live: 0 }));

// update changes the state, records it in the URL (a new history entry) and redraws.
function update(patch, { tags = false } = {}) {
  state = { ...state, ...patch };
  window.history.pushState(null, '', formatState(state));
  syncControls();
  if (tags) loadTags();
  refresh();
}

function setStatus(kind, text) {
  document.body.dataset.status = kind;
  $('status').textContent = text;
  $('status').className = kind;
}

// ---- metric picker with autocomplete ----

async function loadNames() {
  try {
    names = await api.metricNames();
  } catch (e) {
    setStatus('error', `metric names: ${e.message}`);
  }
}

function suggestions(text) {
  const t = text.toLowerCase();
  const hits = names.filter((n) => n.toLowerCase().includes(t));
  hits.sort((a, b) => {
    const pa = a.toLowerCase().startsWith(t), pb = b.toLowerCase().startsWith(t);
    return pa === pb ? (a < b ? -1 : a > b ? 1 : 0) : pa ? -1 : 1;
  });
  return hits.slice(0, MAX_SUGGESTIONS);
}

let active = -1;

function showSuggestions() {
  const list = $('suggestions');
  const hits = suggestions($('metric').value);
  list.replaceChildren(...hits.map((n, i) => el('li', {
    className: 'suggestion', role: 'option', id: `suggestion-${i}`, textContent: n,
    onmousedown: (ev) => { ev.preventDefault(); pickMetric(n); },
  })));
  active = -1;
  list.hidden = hits.length === 0;
  $('metric').setAttribute('aria-expanded', String(!list.hidden));
}

function moveActive(d) {
  const items = $('suggestions').children;
  if (!items.length) return;
  if (active >= 0) items[active].classList.remove('active');
  active = (active + d + items.length) % items.length;
  items[active].classList.add('active');
  items[active].scrollIntoView({ block: 'nearest' });
  $('metric').setAttribute('aria-activedescendant', items[active].id);
}

function hideSuggestions() {
  $('suggestions').hidden = true;
  $('metric').setAttribute('aria-expanded', 'false');
}

function pickMetric(name) {
  $('metric').value = name;
  hideSuggestions();
  if (name !== state.metric) update({ metric: name, filters: {}, groupBy: [] }, { tags: true });
}

function initPicker() {
  const input = $('metric');
  input.addEventListener('focus', async () => {
    await loadNames();
    if (document.activeElement === input) showSuggestions();
  });
  input.addEventListener('input', showSuggestions);
  input.addEventListener('blur', () => {
    hideSuggestions();
    input.value = state.metric;
  });
  input.addEventListener('keydown', (ev) => {
    const items = $('suggestions').children;
    if (ev.key === 'ArrowDown') moveActive(1);
    else if (ev.key === 'ArrowUp') moveActive(-1);
    else if (ev.key === 'Escape') hideSuggestions();
    else if (ev.key === 'Enter') {
      if (active >= 0 && items[active]) pickMetric(items[active].textContent);
      else if (names.includes(input.value)) pickMetric(input.value);
      else if (items.length === 1) pickMetric(items[0].textContent);
    } else return;
    ev.preventDefault();
  });
}

// ---- tag filters and group by ----

async function loadTags() {
  const box = $('tags');
  if (!state.metric) {
    box.replaceChildren();
    return;
  }
  const { start, end } = currentRange();
  const sel = selector(state.metric, {});
  const metric = state.metric;
  try {
    const keys = await api.tagKeys(sel, start, end);
    for (const k of [...state.groupBy, ...Object.keys(state.filters)]) {
      if (!keys.includes(k)) keys.push(k); // a key of the URL shows even without data
    }
    const values = await Promise.all(keys.map((k) => api.tagValues(sel, k, start, end)));
    if (metric !== state.metric) return;
    // Keys with few values first: they are the ones to filter and group by, and a key with
    // thousands of values (an id) would push them out of sight.
    const rows = keys.map((k, i) => [k, values[i]]);
    rows.sort(([a, va], [b, vb]) => va.length - vb.length || (a < b ? -1 : a > b ? 1 : 0));
    box.replaceChildren(...rows.map(([k, v]) => tagRow(k, v)));
    syncTags();
  } catch (e) {
    setStatus('error', `tags: ${e.message}`);
  }
}

function tagRow(key, all) {
  const f = state.filters[key];
  const values = all.slice(0, MAX_TAG_VALUES);
  for (const v of f ? f.values : []) if (!values.includes(v)) values.push(v);
  const row = el('div', { className: 'tag' });
  row.dataset.key = key;
  const groupBy = el('input', { type: 'checkbox', className: 'group-by' });
  groupBy.addEventListener('change', () => {
    const g = state.groupBy.filter((x) => x !== key);
    if (groupBy.checked) g.push(key);
    update({ groupBy: g });
  });
  const negate = el('button', { type: 'button', className: 'negate', textContent: 'not',
    title: 'leave the selected values out instead of keeping only them' });
  negate.addEventListener('click', () => {
    const cur = state.filters[key] || { values: [], negate: false };
    setFilter(key, { values: cur.values, negate: !cur.negate });
  });
  const chips = values.map((v) => {
    const b = el('button', { type: 'button', className: 'tag-value', textContent: v, title: v });
    b.dataset.value = v;
    b.addEventListener('click', () => {
      const cur = state.filters[key] || { values: [], negate: false };
      const vs = cur.values.includes(v) ? cur.values.filter((x) => x !== v) : [...cur.values, v];
      setFilter(key, { values: vs, negate: cur.negate });
    });
    return b;
  });
  const more = all.length > MAX_TAG_VALUES
    ? [el('span', { className: 'more', textContent: `the first ${MAX_TAG_VALUES} of ${all.length} values` })] : [];
  row.append(
    el('div', { className: 'tag-head' }, el('span', { className: 'tag-key', textContent: key }),
      el('label', { className: 'group' }, groupBy, ' group by'), negate),
    el('div', { className: 'tag-values' }, ...chips, ...more));
  return row;
}

function setFilter(key, f) {
  const filters = { ...state.filters };
  if (f.values.length || f.negate) filters[key] = f;
  else delete filters[key];
  update({ filters });
}

// syncTags shows the state on the tag rows.
function syncTags() {
  for (const row of $('tags').children) {
    const key = row.dataset.key;
    const f = state.filters[key] || { values: [], negate: false };
    row.querySelector('.group-by').checked = state.groupBy.includes(key);
    row.querySelector('.negate').setAttribute('aria-pressed', String(f.negate));
    row.classList.toggle('negated', f.negate);
    for (const b of row.querySelectorAll('.tag-value')) {
      b.setAttribute('aria-pressed', String(f.values.includes(b.dataset.value)));
    }
  }
}

// ---- function, time, live ----

function initControls() {
  $('fn').replaceChildren(...Object.entries(FUNCTIONS).map(([k, f]) => el('option', { value: k, textContent: k, title: f.title })));
  $('fn').addEventListener('change', () => update({ fn: $('fn').value }));
  $('presets').replaceChildren(...PRESETS.map(([secs, name]) => {
    const b = el('button', { type: 'button', className: 'preset', textContent: name });
    b.dataset.range = String(secs);
    b.addEventListener('click', () => update({ from: -secs, to: 'now' }, { tags: true }));
    return b;
  }));
  $('live').replaceChildren(...LIVE.map(([secs, name]) => el('option', { value: String(secs), textContent: name })));
  $('live').addEventListener('change', () => {
    const live = Number($('live').value);
    // Live follows now: an absolute range becomes the same length ending now.
    update(live && state.to !== 'now' ? { live, from: state.from - state.to, to: 'now' } : { live });
  });
}

function syncControls() {
  $('metric').value = state.metric;
  $('fn').value = state.fn;
  $('live').value = String(state.live);
  for (const b of $('presets').children) {
    b.setAttribute('aria-pressed', String(state.to === 'now' && state.from === -Number(b.dataset.range)));
  }
  syncTags();
  clearInterval(liveTimer);
  liveTimer = state.live ? setInterval(() => refresh(), state.live * 1000) : null;
}

// currentRange resolves the state's range and picks the step for the chart's width.
function currentRange() {
  const { from, to } = timeRange(state, Date.now() / 1000);
  const width = Math.max($('chart').clientWidth - AXIS_WIDTH, 100);
  const step = chooseStep(to - from, width);
  return { ...alignRange(from, to, step), step };
}

function describeStep(step) {
  if (step % 86400 === 0) return `${step / 86400} d`;
  if (step % 3600 === 0) return `${step / 3600} h`;
  if (step % 60 === 0) return `${step / 60} min`;
  return `${step} s`;
}

// ---- refresh ----

async function refresh() {
  const my = ++seq;
  if (!state.metric) {
    setStatus('idle', 'Pick a metric: type part of its name above.');
    publish(my, null);
    return;
  }
  const { start, end, step } = currentRange();
  const query = rangeQuery(state, step);
  $('query').textContent = query;
  $('range').textContent = `${new Date(start * 1000).toLocaleString()} – ${new Date(end * 1000).toLocaleString()}, step ${describeStep(step)}`;
  setStatus('loading', 'Loading…');
  try {
    const [res, sf] = await Promise.all([
      api.queryRange(query, start, end, step),
      api.queryInstant(samplingQuery(state.metric, Math.ceil(end - start + step)), end),
    ]);
    if (my !== seq) return;
    const fallback = `${state.fn}(${state.metric})`;
    const data = gridData(res.result, start, end, step, (m) => seriesLabel(m, state.groupBy, fallback));
    const factor = sf.result.length ? Number(sf.result[0].value[1]) : 1;
    chart.set(data);
    showSampling(factor);
    updateCSV();
    publish(my, { query, start, end, step, samplingFactor: factor });
    setStatus('ready', data.series.length ? '' : 'No data in this range.');
  } catch (e) {
    if (my !== seq) return;
    setStatus('error', e.message);
  }
}

function showSampling(sf) {
  const b = $('sampling');
  b.hidden = !(sf > 1);
  b.dataset.factor = String(sf);
  b.textContent = `sampled ×${Math.round(sf * 100) / 100}`;
  b.title = `The fairshare processor kept about 1 in ${Math.round(sf * 100) / 100} rows of this metric ` +
    '(the largest sampling factor it reported in this range); sums and counts of the kept rows are scaled up to stay unbiased.';
}

function updateCSV() {
  if (csvURL) URL.revokeObjectURL(csvURL);
  csvURL = URL.createObjectURL(new Blob([chart.csv()], { type: 'text/csv' }));
  const a = $('csv');
  a.href = csvURL;
  a.download = `${state.metric}-${state.fn}.csv`;
  a.removeAttribute('aria-disabled');
}

// publish exposes what the chart shows, read back from uPlot, for scripts and tests:
// window.doghouse.
function publish(my, shown) {
  window.doghouse = {
    seq: my,
    state: structuredClone(state),
    ...(shown && {
      query: shown.query, start: shown.start, end: shown.end, step: shown.step,
      samplingFactor: shown.samplingFactor,
      ...chart.shown(),
    }),
  };
}

// ---- start ----

function load() {
  syncControls();
  loadTags();
  refresh();
}

initPicker();
initControls();
window.addEventListener('popstate', () => {
  state = parseState(window.location.search);
  load();
});
// The chart follows its container's width (the window, or the tag panel appearing beside it);
// a new width can mean a new step, so the query runs again once the size settles.
let resizeTimer = null;
let chartWidth = $('chart').clientWidth;
new ResizeObserver(() => {
  if ($('chart').clientWidth === chartWidth) return;
  chartWidth = $('chart').clientWidth;
  chart.resize();
  clearTimeout(resizeTimer);
  resizeTimer = setTimeout(refresh, 200);
}).observe($('chart'));
if (!window.location.search) window.history.replaceState(null, '', formatState(emptyState()));
loadNames();
load();
