// Fax: Send Fax (a PDF to a number), Outbound Fax (statuses updated live, in place),
// Inbound Fax (open a received fax's PDF in the browser) and Fax Settings.

import { api, ApiError, get, tokens } from '../api.js';
import { h, page, refusal } from '../ui.js';

let timer = null;

export function stop() {
  if (timer) { clearInterval(timer); timer = null; }
}

const STATUS = { queued: 'Queued', sending: 'Sending', sent: 'Sent', failed: 'Failed', received: 'Received', partial: 'Partial' };

/// The fax log's rows, kept by id and updated in place.
function syncRows(tbody, items, cells) {
  const seen = new Set();
  let prev = null;
  for (const f of items) {
    const k = String(f.id);
    seen.add(k);
    let row = tbody.querySelector(`tr[data-id="${k}"]`);
    const values = cells(f);
    if (!row) row = h('tr', { 'data-id': k }, values.map(() => h('td')));
    values.forEach((v, i) => {
      const cell = row.children[i];
      if (v instanceof Node) { if (!cell.firstChild || cell.dataset.kind !== 'node') { cell.replaceChildren(v); cell.dataset.kind = 'node'; } }
      else if (cell.textContent !== String(v ?? '')) cell.textContent = String(v ?? '');
    });
    row.dataset.status = f.status;
    const at = prev ? prev.nextSibling : tbody.firstChild;
    if (at !== row) tbody.insertBefore(row, at);
    prev = row;
  }
  for (const row of [...tbody.children]) if (!seen.has(row.dataset.id)) row.remove();
}

export async function send(ctx) {
  stop();
  const status = h('p', { role: 'status' });
  const form = h('form', { class: 'card', 'aria-label': 'Send a fax' },
    h('div', { class: 'field' }, h('label', { for: 'fax-number' }, 'Fax number'), h('input', { id: 'fax-number', name: 'number', type: 'tel', required: true, placeholder: '+12125550123' })),
    h('div', { class: 'field' }, h('label', { for: 'fax-subject' }, 'Subject'), h('input', { id: 'fax-subject', name: 'subject', maxlength: 200 })),
    h('div', { class: 'field' }, h('label', { for: 'fax-file' }, 'Document (PDF)'), h('input', { id: 'fax-file', name: 'file', type: 'file', accept: 'application/pdf,.pdf', required: true })),
    h('div', { class: 'field' }, h('label', { for: 'fax-resolution' }, 'Resolution'),
      h('select', { id: 'fax-resolution', name: 'resolution' }, h('option', { value: 'fine' }, 'Fine (204 × 196)'), h('option', { value: 'normal' }, 'Normal (204 × 98)'))),
    h('p', { class: 'error', role: 'alert' }),
    h('button', { type: 'submit', class: 'primary' }, 'Send fax'));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const err = form.querySelector('.error');
    err.textContent = '';
    const file = form.elements.file.files[0];
    const q = new URLSearchParams({ number: form.elements.number.value.trim(), subject: form.elements.subject.value, resolution: form.elements.resolution.value });
    status.textContent = 'Checking the document…';
    try {
      const f = await api('POST', `/faxes/outbound?${q}`, new Blob([await file.arrayBuffer()], { type: 'application/pdf' }));
      status.textContent = `Queued: fax to ${f.number}, ${f.pages} page${f.pages === 1 ? '' : 's'}.`;
      location.hash = '#/fax/outbound';
    } catch (x) {
      status.textContent = '';
      err.textContent = x.message;
    }
  });
  page('Send fax', status, form);
}

export async function outbound(ctx) {
  stop();
  const tbody = h('tbody');
  const cols = ['Created', 'To', 'Subject', 'Pages', 'Status', 'Tries', 'Result'];
  const table = h('table', { 'aria-label': 'Outbound faxes' }, h('thead', {}, h('tr', {}, cols.map((c) => h('th', {}, c)))), tbody);
  const empty = h('p', { class: 'empty' }, 'No faxes sent yet.');
  async function render() {
    let list;
    try { list = await get('/faxes/outbound?per_page=100'); } catch (e) { if (e instanceof ApiError) { refusal('Outbound fax', e); stop(); return false; } throw e; }
    syncRows(tbody, list.items, (f) => [f.created_at, f.number, f.subject, f.pages, STATUS[f.status] || f.status, f.attempts, f.result_text]);
    empty.hidden = list.items.length > 0;
    return true;
  }
  page('Outbound fax', h('p', {}, h('a', { href: '#/fax/send' }, 'Send a fax')), empty, table);
  if (!(await render())) return;
  timer = setInterval(render, 2000);
}

/// A received fax's PDF, fetched with the session's token and shown in the page.
async function openPdf(id, into) {
  const r = await fetch(`/api/v1/faxes/inbound/${id}/pdf`, { headers: { authorization: `Bearer ${tokens().access}` } });
  if (!r.ok) { into.replaceChildren(h('p', { class: 'error' }, `The fax could not be opened (${r.status}).`)); return; }
  const url = URL.createObjectURL(await r.blob());
  into.replaceChildren(h('iframe', { src: url, title: `Fax ${id}`, class: 'pdf-preview' }),
    h('p', {}, h('a', { href: url, download: `fax-${id}.pdf` }, 'Download PDF')));
}

export async function inbound(ctx) {
  stop();
  let list;
  try { list = await get('/faxes/inbound?per_page=100'); } catch (e) { if (e instanceof ApiError) return refusal('Inbound fax', e); throw e; }
  const preview = h('div', { class: 'preview', 'aria-live': 'polite' });
  const tbody = h('tbody');
  syncRows(tbody, list.items, (f) => [f.created_at, f.number, f.remote_station, f.pages, STATUS[f.status] || f.status, f.result_text,
    f.has_document ? h('button', { type: 'button', onclick: () => openPdf(f.id, preview) }, 'Open') : '']);
  const cols = ['Received', 'From', 'Station', 'Pages', 'Status', 'Result', ''];
  page('Inbound fax',
    list.items.length ? h('table', { 'aria-label': 'Inbound faxes' }, h('thead', {}, h('tr', {}, cols.map((c) => h('th', {}, c)))), tbody) : h('p', { class: 'empty' }, 'No faxes received yet.'),
    preview);
}

export async function settings(ctx) {
  stop();
  let s;
  try { s = await get('/fax-settings'); } catch (e) { if (e instanceof ApiError) return refusal('Fax settings', e); throw e; }
  const canWrite = ctx.allowed('PUT', '/fax-settings');
  const status = h('p', { role: 'status' });
  const text = (name, title, type = 'text') => h('div', { class: 'field', 'data-field': name }, h('label', { for: `fs-${name}` }, title),
    h('input', { id: `fs-${name}`, name, type, value: s[name] ?? '' }), h('span', { class: 'error' }));
  const box = (name, title) => h('div', { class: 'field', 'data-field': name }, h('label', {}, h('input', { type: 'checkbox', name, checked: !!s[name] }), ` ${title}`), h('span', { class: 'error' }));
  const form = h('form', { class: 'card', 'aria-label': 'Fax settings' },
    text('caller_id', 'Caller ID (E.164)'), text('station_id', 'Station ID (20 characters)'), text('header', 'Page header'),
    text('max_retries', 'Retries', 'number'), text('retry_delay', 'Seconds between tries', 'number'),
    box('ecm', 'Error correction (ECM)'), box('t38', 'T.38'),
    text('delivery_email', 'Deliver received faxes to', 'email'), text('retention_days', 'Keep faxes (days)', 'number'),
    canWrite ? h('button', { type: 'submit', class: 'primary' }, 'Save') : '');
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    for (const el of form.querySelectorAll('.error')) el.textContent = '';
    const v = (n) => form.elements[n].value;
    const body = { caller_id: v('caller_id').trim(), station_id: v('station_id'), header: v('header'), max_retries: Number(v('max_retries')), retry_delay: Number(v('retry_delay')),
      ecm: form.elements.ecm.checked, t38: form.elements.t38.checked, delivery_email: v('delivery_email').trim(), retention_days: Number(v('retention_days')) };
    try { await api('PUT', '/fax-settings', body); status.textContent = 'Saved.'; } catch (x) {
      status.textContent = 'Not saved: see the fields marked.';
      for (const [field, message] of Object.entries(x.fields || {})) {
        const el = form.querySelector(`[data-field="${field}"] .error`);
        if (el) el.textContent = message;
      }
    }
  });
  page('Fax settings', status, form);
}
