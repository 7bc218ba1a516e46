// Small DOM helpers: elements from a tag and attributes (text is always text, never HTML),
// money, and the page-level refusal a forbidden URL shows.

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

/// Micro-units to "12.34".
export function money(micro) {
  return (Number(micro || 0) / 1e6).toFixed(2);
}

export function page(title, ...content) {
  const main = document.getElementById('main');
  // Parts a page may not have (a tenant picker only for super admins, …) come as null.
  main.replaceChildren(h('h1', {}, title), ...content.flat().filter((c) => c !== null && c !== undefined && c !== false));
  document.title = `${title} · switchboard`;
  return main;
}

/// An API error as the page's content: the API's own words.
export function refusal(title, err) {
  const what = err.status === 403 ? 'Not allowed' : err.status === 404 ? 'Not found' : 'Error';
  return page(title, h('div', { class: 'notice refusal', role: 'alert' }, h('strong', {}, `${what}: `), err.message));
}

export function label(name) {
  return name.replace(/_id$/, '').replace(/_/g, ' ').replace(/^./, (c) => c.toUpperCase());
}
