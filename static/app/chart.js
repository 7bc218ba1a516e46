// Bar charts as inline SVG (a few dozen lines instead of a chart library): one group of
// bars per bucket, one bar per series, each bar titled with its figure for hover and
// screen readers, and the largest value on the axis.

const NS = 'http://www.w3.org/2000/svg';

function s(tag, attrs, ...children) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  for (const c of children) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}

/// `rows`: [{ label, …values }]; `series`: [[key, name, cssClass]]; `format`: value → text.
export function bars(title, rows, series, format = String) {
  const W = 640;
  const H = 180;
  const left = 44;
  const bottom = 22;
  const max = Math.max(1, ...rows.flatMap((r) => series.map(([k]) => r[k] || 0)));
  const step = (W - left) / Math.max(1, rows.length);
  const bw = Math.max(1, (step * 0.8) / series.length);
  const y = (v) => (H - bottom) - ((H - bottom - 8) * v) / max;
  const every = Math.ceil(rows.length / 12);
  const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': title },
    s('line', { x1: left, y1: H - bottom, x2: W, y2: H - bottom, stroke: '#9ca3af' }),
    s('text', { x: left - 4, y: 12, 'text-anchor': 'end' }, format(max)),
    s('text', { x: left - 4, y: H - bottom, 'text-anchor': 'end' }, '0'));
  rows.forEach((r, i) => {
    series.forEach(([k, name, cls], j) => {
      const v = r[k] || 0;
      const top = y(v);
      svg.append(s('rect', { class: cls, x: left + i * step + step * 0.1 + j * bw, y: top, width: bw, height: H - bottom - top },
        s('title', {}, `${r.label} · ${name}: ${format(v)}`)));
    });
    if (i % every === 0) svg.append(s('text', { x: left + i * step + step / 2, y: H - 6, 'text-anchor': 'middle' }, r.label));
  });
  const legend = document.createElement('div');
  legend.className = 'legend';
  for (const [, name, cls] of series) {
    const i = document.createElement('i');
    i.className = cls;
    legend.append(i, name);
  }
  const box = document.createElement('figure');
  box.className = 'chart';
  const cap = document.createElement('figcaption');
  cap.textContent = title;
  box.append(cap, svg, legend);
  return box;
}

/// Days grouped into weeks or months when a period is too long for a bar a day.
export function bucket(days, keys) {
  const by = days.length <= 62 ? 'day' : days.length <= 190 ? 'week' : 'month';
  if (by === 'day') return days.map((d) => ({ ...d, label: d.date.slice(5) }));
  const out = [];
  for (const d of days) {
    const date = new Date(`${d.date}T00:00:00Z`);
    let label = d.date.slice(0, 7);
    if (by === 'week') {
      const monday = new Date(date.getTime() - ((date.getUTCDay() + 6) % 7) * 86400000);
      label = monday.toISOString().slice(5, 10);
    }
    let b = out[out.length - 1];
    if (!b || b.label !== label) { b = { label }; keys.forEach((k) => { b[k] = 0; }); out.push(b); }
    keys.forEach((k) => { b[k] += d[k] || 0; });
  }
  return out;
}
