// The page's state and its URL form, so that a chart can be reloaded, bookmarked and shared.
//
//   ?m=page.views            metric
//   &fn=rate                 function (default sum)
//   &by=host                 group by, repeated
//   &in=env:prod&in=env:dev  tag values kept (key:value, the key ends at the first colon)
//   &ex=page:home            tag values left out (a key is either kept or left out)
//   &from=-3600&to=now       relative range (seconds before now), or Unix seconds for both
//   &live=10                 refresh every 10 s (0 or absent: off)

import { FUNCTIONS } from './promql.js';

export const DEFAULT_RANGE = 3600;

export function emptyState() {
  return { metric: '', fn: 'sum', groupBy: [], filters: {}, from: -DEFAULT_RANGE, to: 'now', live: 0 };
}

// parseState reads a query string; anything malformed falls back to the default.
export function parseState(search) {
  const p = new URLSearchParams(search);
  const s = emptyState();
  s.metric = p.get('m') || '';
  if (FUNCTIONS[p.get('fn')]) s.fn = p.get('fn');
  s.groupBy = [...new Set(p.getAll('by').filter(Boolean))];
  for (const [param, negate] of [['in', false], ['ex', true]]) {
    for (const kv of p.getAll(param)) {
      const i = kv.indexOf(':');
      if (i <= 0) continue;
      const key = kv.slice(0, i);
      const f = (s.filters[key] ||= { values: [], negate });
      f.negate = negate;
      if (!f.values.includes(kv.slice(i + 1))) f.values.push(kv.slice(i + 1));
    }
  }
  const from = Number(p.get('from'));
  const to = p.get('to');
  if (to === 'now' || to === null) {
    if (Number.isFinite(from) && from < 0) s.from = from;
  } else if (Number.isFinite(from) && Number.isFinite(Number(to)) && Number(to) > from && from > 0) {
    s.from = from;
    s.to = Number(to);
  }
  const live = Number(p.get('live'));
  if (Number.isFinite(live) && live > 0) s.live = live;
  return s;
}

// formatState writes the query string parseState reads.
export function formatState(s) {
  const p = new URLSearchParams();
  if (s.metric) p.set('m', s.metric);
  if (s.fn !== 'sum') p.set('fn', s.fn);
  for (const k of s.groupBy) p.append('by', k);
  for (const key of Object.keys(s.filters).sort()) {
    const f = s.filters[key];
    for (const v of f.values) p.append(f.negate ? 'ex' : 'in', `${key}:${v}`);
  }
  p.set('from', String(s.from));
  p.set('to', String(s.to));
  if (s.live) p.set('live', String(s.live));
  return '?' + p.toString();
}

// timeRange resolves the state's range to Unix seconds at `now`.
export function timeRange(s, now) {
  if (s.to === 'now') return { from: now + s.from, to: now };
  return { from: s.from, to: s.to };
}
