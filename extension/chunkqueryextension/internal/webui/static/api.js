// The Prometheus HTTP API of the same origin: the only thing the page talks to.

export class APIError extends Error {}

async function get(path, params) {
  const u = new URL(path, window.location.href);
  for (const [k, v] of params) u.searchParams.append(k, v);
  let resp;
  try {
    resp = await fetch(u, { headers: { Accept: 'application/json' } });
  } catch (e) {
    throw new APIError(`${path}: ${e.message}`);
  }
  let body;
  try {
    body = await resp.json();
  } catch {
    throw new APIError(`${path}: HTTP ${resp.status}`);
  }
  if (body.status !== 'success') throw new APIError(body.error || `${path}: HTTP ${resp.status}`);
  return body.data;
}

// metricNames lists every metric name the store holds.
export function metricNames() {
  return get('api/v1/label/__name__/values', []);
}

// tagKeys lists the label names of the metric's series in [start, end].
export async function tagKeys(selector, start, end) {
  const names = await get('api/v1/labels', [['match[]', selector], ['start', start], ['end', end]]);
  return names.filter((n) => n !== '__name__');
}

// tagValues lists the values of one label of the metric's series in [start, end]. It sends no
// `limit`: the extension refuses a request whose series outnumber it rather than cutting the
// answer short, so the page cuts the list itself.
export function tagValues(selector, key, start, end) {
  return get(`api/v1/label/${encodeURIComponent(key)}/values`,
    [['match[]', selector], ['start', start], ['end', end]]);
}

export function queryRange(query, start, end, step) {
  return get('api/v1/query_range', [['query', query], ['start', start], ['end', end], ['step', step]]);
}

export function queryInstant(query, time) {
  return get('api/v1/query', [['query', query], ['time', time]]);
}
