// Fax: Send Fax (a PDF, uploaded or from Fax Documents, to a number), Outbound Fax
// (statuses updated live, in place), Inbound Fax (open a received fax's PDF in the
// browser), Fax Documents (the library of PDFs to send), My DIDs, Fax Settings and the
// do-not-contact list, Bulk fax (campaigns) and cover pages' preview.

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
  // "Send" on Fax documents comes here with the document chosen; kept until the fax is sent
  // or another document is chosen (the page may be drawn again meanwhile).
  const pre = sessionStorage.getItem('fax-document');
  const [docs, covers] = await Promise.all(['/fax-documents?per_page=500', '/fax-cover-pages?per_page=500'].map((p) => get(p).then((l) => l.items, () => [])));
  const status = h('p', { role: 'status' });
  const preview = h('div', { class: 'preview', 'aria-live': 'polite' });
  const cover = h('select', { id: 'fax-cover', name: 'cover' }, h('option', { value: '' }, '(no cover page)'), covers.map((c) => h('option', { value: c.id, selected: c.is_default }, c.name)));
  const file = h('div', { class: 'field', 'data-field': 'file' }, h('label', { for: 'fax-file' }, 'PDF to upload'),
    h('input', { id: 'fax-file', name: 'file', type: 'file', accept: 'application/pdf,.pdf' }));
  const source = h('select', { id: 'fax-document', name: 'document' }, h('option', { value: '' }, 'Upload a PDF now'),
    docs.map((d) => h('option', { value: d.id }, `${d.name} (${d.pages} page${d.pages === 1 ? '' : 's'})`)));
  const chosen = () => { file.hidden = source.value !== ''; file.querySelector('input').required = source.value === ''; };
  source.addEventListener('change', () => { sessionStorage.removeItem('fax-document'); chosen(); });
  if (pre && docs.some((d) => String(d.id) === pre)) source.value = pre;
  const form = h('form', { class: 'card', 'aria-label': 'Send a fax' },
    h('div', { class: 'field' }, h('label', { for: 'fax-number' }, 'Fax number'), h('input', { id: 'fax-number', name: 'number', type: 'tel', required: true, placeholder: '+12125550123' })),
    h('div', { class: 'field' }, h('label', { for: 'fax-subject' }, 'Subject'), h('input', { id: 'fax-subject', name: 'subject', maxlength: 200 })),
    h('div', { class: 'field' }, h('label', { for: 'fax-document' }, 'Document'), source,
      h('span', { class: 'hint' }, docs.length ? 'or one kept in ' : 'Keep documents you send often in ', h('a', { href: '#/fax/documents' }, 'Fax documents'))),
    file,
    h('div', { class: 'field' }, h('label', { for: 'fax-cover' }, 'Cover page'), cover,
      h('button', { type: 'button', onclick: () => cover.value && openPdf(`/fax-cover-pages/${cover.value}/preview`, 'Cover page preview', preview) }, 'Preview')),
    h('div', { class: 'field' }, h('label', { for: 'fax-to-name' }, 'Recipient name (on the cover page)'), h('input', { id: 'fax-to-name', name: 'to_name', maxlength: 200, placeholder: 'the contact kept for the number when empty' })),
    h('div', { class: 'field' }, h('label', { for: 'fax-message' }, 'Message (on the cover page)'), h('textarea', { id: 'fax-message', name: 'message', maxlength: 2000, rows: 3 })),
    h('div', { class: 'field' }, h('label', { for: 'fax-resolution' }, 'Resolution'),
      h('select', { id: 'fax-resolution', name: 'resolution' }, h('option', { value: 'fine' }, 'Fine (204 × 196)'), h('option', { value: 'normal' }, 'Normal (204 × 98)'))),
    h('p', { class: 'error', role: 'alert' }),
    h('button', { type: 'submit', class: 'primary' }, 'Send fax'));
  chosen();
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const err = form.querySelector('.error');
    err.textContent = '';
    const q = new URLSearchParams({ number: form.elements.number.value.trim(), subject: form.elements.subject.value, resolution: form.elements.resolution.value });
    let body; // none when a kept document is chosen
    if (source.value) q.set('document', source.value);
    else body = new Blob([await form.elements.file.files[0].arrayBuffer()], { type: 'application/pdf' });
    if (cover.value) {
      q.set('cover', cover.value);
      q.set('message', form.elements.message.value);
      if (form.elements.to_name.value.trim()) q.set('to_name', form.elements.to_name.value.trim());
    }
    status.textContent = 'Checking the document…';
    try {
      const f = await api('POST', `/faxes/outbound?${q}`, body);
      sessionStorage.removeItem('fax-document');
      status.textContent = `Queued: fax to ${f.number}, ${f.pages} page${f.pages === 1 ? '' : 's'}.`;
      location.hash = '#/fax/outbound';
    } catch (x) {
      status.textContent = '';
      err.textContent = x.message;
    }
  });
  page('Send fax', status, form, preview);
}

/// A PDF of the API, fetched with the session's token and shown in the page.
async function openPdf(path, title, into) {
  const r = await fetch(`/api/v1${path}`, { headers: { authorization: `Bearer ${tokens().access}` } });
  if (!r.ok) { into.replaceChildren(h('p', { class: 'error' }, `${title} could not be opened (${r.status}).`)); return; }
  const url = URL.createObjectURL(await r.blob());
  into.replaceChildren(h('iframe', { src: url, title, class: 'pdf-preview' }),
    h('p', {}, h('a', { href: url, download: `${title.replace(/[^A-Za-z0-9 _-]/g, '_')}.pdf` }, 'Download PDF')));
}

const size = (n) => (n >= 1 << 20 ? `${(n / (1 << 20)).toFixed(1)} MiB` : `${Math.max(1, Math.round(n / 1024))} KiB`);

export async function documents(ctx) {
  stop();
  const status = h('p', { role: 'status' });
  const preview = h('div', { class: 'preview', 'aria-live': 'polite' });
  const tbody = h('tbody');
  const empty = h('p', { class: 'empty' }, 'No documents yet: add a PDF you send often, then choose it on Send fax.');
  const table = h('table', { 'aria-label': 'Fax documents' }, h('thead', {}, h('tr', {}, ['Name', 'Pages', 'Size', 'Added', ''].map((c) => h('th', {}, c)))), tbody);
  async function render() {
    let list;
    try { list = await get('/fax-documents?per_page=500'); } catch (e) { if (e instanceof ApiError) { refusal('Fax documents', e); return false; } throw e; }
    syncRows(tbody, list.items, (d) => [d.name, d.pages, size(d.bytes), d.created_at,
      h('span', {}, h('button', { type: 'button', onclick: () => openPdf(`/fax-documents/${d.id}/pdf`, d.name, preview) }, 'Open'), ' ',
        h('a', { href: `#/fax/send`, onclick: () => sessionStorage.setItem('fax-document', d.id) }, 'Send'), ' ',
        h('button', { type: 'button', class: 'danger', onclick: async () => {
          if (!confirm(`Delete ${d.name}? Faxes already queued from it are still sent.`)) return;
          try { await api('DELETE', `/fax-documents/${d.id}`); status.textContent = `Deleted ${d.name}.`; preview.replaceChildren(); await render(); } catch (x) { status.textContent = x.message; }
        } }, 'Delete'))]);
    empty.hidden = list.items.length > 0;
    table.hidden = list.items.length === 0;
    return true;
  }
  const form = h('form', { class: 'card', 'aria-label': 'Add a document' },
    h('div', { class: 'field' }, h('label', { for: 'doc-name' }, 'Name'), h('input', { id: 'doc-name', name: 'name', required: true, maxlength: 200, placeholder: 'Price list' })),
    h('div', { class: 'field' }, h('label', { for: 'doc-file' }, 'PDF'), h('input', { id: 'doc-file', name: 'file', type: 'file', accept: 'application/pdf,.pdf', required: true })),
    h('p', { class: 'error', role: 'alert' }),
    h('button', { type: 'submit', class: 'primary' }, 'Add document'));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const err = form.querySelector('.error');
    err.textContent = '';
    status.textContent = 'Checking the document…';
    try {
      const d = await api('POST', `/fax-documents?${new URLSearchParams({ name: form.elements.name.value.trim() })}`,
        new Blob([await form.elements.file.files[0].arrayBuffer()], { type: 'application/pdf' }));
      status.textContent = `Added ${d.name}: ${d.pages} page${d.pages === 1 ? '' : 's'}.`;
      form.reset();
      await render();
    } catch (x) {
      status.textContent = '';
      err.textContent = x.message;
    }
  });
  page('Fax documents', status, form, empty, table, preview);
  await render();
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

export async function inbound(ctx) {
  stop();
  let list;
  try { list = await get('/faxes/inbound?per_page=100'); } catch (e) { if (e instanceof ApiError) return refusal('Inbound fax', e); throw e; }
  const preview = h('div', { class: 'preview', 'aria-live': 'polite' });
  const tbody = h('tbody');
  syncRows(tbody, list.items, (f) => [f.created_at, f.number, f.remote_station, f.pages, STATUS[f.status] || f.status, f.result_text,
    f.has_document ? h('button', { type: 'button', onclick: () => openPdf(`/faxes/inbound/${f.id}/pdf`, `Fax ${f.id}`, preview) }, 'Open') : '']);
  const cols = ['Received', 'From', 'Station', 'Pages', 'Status', 'Result', ''];
  page('Inbound fax',
    list.items.length ? h('table', { 'aria-label': 'Inbound faxes' }, h('thead', {}, h('tr', {}, cols.map((c) => h('th', {}, c)))), tbody) : h('p', { class: 'empty' }, 'No faxes received yet.'),
    preview);
}

/// My DIDs: the numbers that reach the user (all of the tenant's for an admin), where each
/// goes; an admin assigns one to a fax line here (the guide's Fax → My DIDs → Assign).
export async function dids(ctx) {
  stop();
  const canAssign = ctx.allowed('PUT', '/dids/{id}/fax-line');
  let lines = [];
  if (canAssign) { try { lines = (await get('/extensions?type=fax&per_page=500')).items; } catch { lines = []; } }
  const status = h('p', { role: 'status' });
  const tbody = h('tbody');
  const empty = h('p', { class: 'empty' }, canAssign ? 'Your organisation has no DIDs yet: ask your provider for a number.' : 'No DID reaches you yet: ask your administrator to assign one.');
  const cols = ['Number', 'Description', 'Routed to', 'Active', canAssign ? 'Assign to a fax line' : null].filter((c) => c !== null);
  const table = h('table', { 'aria-label': 'My DIDs' }, h('thead', {}, h('tr', {}, cols.map((c) => h('th', {}, c)))), tbody);
  const assign = (d) => {
    if (!lines.length) return h('span', { class: 'hint' }, 'No fax line yet: add an extension of type Fax.');
    const pick = h('select', { 'aria-label': `Fax line for ${d.number}` }, lines.map((x) => h('option', { value: x.id, selected: d.destination?.type === 'fax' && d.destination.id === x.id },
      `${x.number}${x.display_name ? ` (${x.display_name})` : ''}`)));
    return h('span', {}, pick, ' ', h('button', { type: 'button', onclick: async () => {
      try {
        const v = await api('PUT', `/dids/${d.id}/fax-line`, { extension_id: Number(pick.value) });
        status.textContent = `${v.number} now goes to ${v.destination_name}.`;
        await render();
      } catch (x) { status.textContent = x.message; }
    } }, 'Assign'));
  };
  async function render() {
    let list;
    try { list = await get('/me/dids'); } catch (e) { if (e instanceof ApiError) { refusal('My DIDs', e); return; } throw e; }
    tbody.replaceChildren(...list.items.map((d) => h('tr', { 'data-id': d.id }, h('td', {}, d.number), h('td', {}, d.description), h('td', {}, d.destination_name),
      h('td', {}, d.active ? 'Yes' : 'No'), canAssign ? h('td', {}, assign(d)) : null)));
    empty.hidden = list.items.length > 0;
    table.hidden = list.items.length === 0;
  }
  page('My DIDs', status, empty, table);
  await render();
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
    text('caller_id', 'Caller ID (E.164)'), text('station_id', 'Station ID (20 characters)'), text('header', 'Page header (50 characters)'),
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

/// Contact DNC: numbers (and prefixes) no fax is sent to; add, search, delete, import a CSV
/// (the report names each refused row), export.
export async function dnc(ctx) {
  stop();
  const status = h('p', { role: 'status' });
  const tbody = h('tbody');
  const empty = h('p', { class: 'empty' }, 'No numbers listed: add one, or import a list.');
  const table = h('table', { 'aria-label': 'Do not contact' }, h('thead', {}, h('tr', {}, ['Number', 'Covers', 'Note', 'Added', ''].map((c) => h('th', {}, c)))), tbody);
  const search = h('input', { type: 'search', 'aria-label': 'Search the list', placeholder: 'Number or note' });
  async function render() {
    let list;
    try { list = await get(`/fax-dnc?per_page=1000&${new URLSearchParams({ q: search.value.trim() })}`); } catch (e) { if (e instanceof ApiError) { refusal('Contact DNC', e); return; } throw e; }
    syncRows(tbody, list.items, (d) => [d.number, d.prefix ? 'every number beginning so' : 'this number', d.note, d.created_at,
      h('button', { type: 'button', class: 'danger', onclick: async () => {
        if (!confirm(`Take ${d.number} off the list? Faxes to it can be sent again.`)) return;
        try { await api('DELETE', `/fax-dnc/${d.id}`); status.textContent = `${d.number} is off the list.`; await render(); } catch (x) { status.textContent = x.message; }
      } }, 'Remove')]);
    empty.hidden = list.items.length > 0;
    table.hidden = list.items.length === 0;
  }
  search.addEventListener('input', () => render());
  const add = h('form', { class: 'card', 'aria-label': 'Add to the list' },
    h('div', { class: 'field' }, h('label', { for: 'dnc-number' }, 'Number'), h('input', { id: 'dnc-number', name: 'number', type: 'tel', required: true, placeholder: '+12125550199' })),
    h('label', {}, h('input', { type: 'checkbox', name: 'prefix' }), ' Every number beginning with it'),
    h('div', { class: 'field' }, h('label', { for: 'dnc-note' }, 'Note'), h('input', { id: 'dnc-note', name: 'note', maxlength: 200 })),
    h('p', { class: 'error', role: 'alert' }),
    h('button', { type: 'submit', class: 'primary' }, 'Add'));
  add.addEventListener('submit', async (e) => {
    e.preventDefault();
    const err = add.querySelector('.error');
    err.textContent = '';
    try {
      const d = await api('POST', '/fax-dnc', { number: add.elements.number.value.trim(), prefix: add.elements.prefix.checked, note: add.elements.note.value });
      status.textContent = `${d.number} is on the list.`;
      add.reset();
      await render();
    } catch (x) { err.textContent = x.message; }
  });
  const report = h('div', { 'aria-live': 'polite' });
  const importForm = h('form', { class: 'card', 'aria-label': 'Import a list' },
    h('div', { class: 'field' }, h('label', { for: 'dnc-file' }, 'CSV file (number, prefix, note)'), h('input', { id: 'dnc-file', name: 'file', type: 'file', accept: '.csv,text/csv', required: true })),
    h('button', { type: 'submit' }, 'Import'), ' ',
    h('button', { type: 'button', onclick: () => download('dnc-sample.csv', new Blob(['number,prefix,note\n+12125550199,0,asked us to stop\n+1900,1,premium numbers\n'], { type: 'text/csv' })) }, 'Sample CSV'), ' ',
    h('button', { type: 'button', onclick: async () => {
      const r = await fetch('/api/v1/fax-dnc/export', { headers: { authorization: `Bearer ${tokens().access}` } });
      if (!r.ok) { status.textContent = `The list could not be exported (${r.status}).`; return; }
      download('do-not-contact.csv', await r.blob());
    } }, 'Export'),
    report);
  importForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      const r = await api('POST', '/fax-dnc/import', new Blob([await importForm.elements.file.files[0].arrayBuffer()], { type: 'text/csv' }));
      report.replaceChildren(h('p', {}, `${r.added} added, ${r.duplicates} already listed, ${r.refused.length} refused.`),
        r.refused.length ? h('ul', { class: 'refused' }, r.refused.map((x) => h('li', {}, `Row ${x.row}: ${x.reason}`))) : '');
      await render();
    } catch (x) { report.replaceChildren(h('p', { class: 'error' }, x.message)); }
  });
  page('Contact DNC', status, h('p', {}, 'No fax is sent to a number on this list, one by one or in a campaign.'), add, importForm, search, empty, table);
  await render();
}

/// A file to download, made in the page.
function download(name, blob) {
  h('a', { href: URL.createObjectURL(blob), download: name }).click();
}

/// Import contacts: a CSV (name, company, fax, email, notes) into the address book and,
/// when chosen, a group; the report names each skipped row and why. Export and a sample.
export async function importContacts(ctx) {
  stop();
  let groups = [];
  try { groups = (await get('/fax-groups?per_page=500')).items; } catch { groups = []; }
  const report = h('div', { 'aria-live': 'polite' });
  const form = h('form', { class: 'card', 'aria-label': 'Import contacts' },
    h('div', { class: 'field' }, h('label', { for: 'ci-file' }, 'CSV file (name, company, fax, email, notes)'), h('input', { id: 'ci-file', name: 'file', type: 'file', accept: '.csv,text/csv', required: true })),
    h('div', { class: 'field' }, h('label', { for: 'ci-group' }, 'Add them to the group'),
      h('select', { id: 'ci-group', name: 'group' }, h('option', { value: '' }, '(no group)'), groups.map((g) => h('option', { value: g.id }, g.name)))),
    h('button', { type: 'submit', class: 'primary' }, 'Import'), ' ',
    h('button', { type: 'button', onclick: () => download('contacts-sample.csv', new Blob(['name,company,fax,email,notes\nJane Roe,Acme Inc.,+12125550199,jane@acme.example,accounts payable\n'], { type: 'text/csv' })) }, 'Sample CSV'), ' ',
    h('button', { type: 'button', onclick: async () => {
      const r = await fetch('/api/v1/fax-contacts/export', { headers: { authorization: `Bearer ${tokens().access}` } });
      if (!r.ok) { report.replaceChildren(h('p', { class: 'error' }, `The contacts could not be exported (${r.status}).`)); return; }
      download('contacts.csv', await r.blob());
    } }, 'Export contacts'));
  const bar = h('progress', { hidden: true, 'aria-label': 'Import progress' });
  const note = h('span', { role: 'status' });
  form.append(h('p', {}, bar, ' ', note));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    report.replaceChildren();
    const q = form.elements.group.value ? `?group=${form.elements.group.value}` : '';
    try {
      const r = await uploadWithProgress(`/fax-contacts/import${q}`, form.elements.file.files[0], bar, note);
      note.textContent = '';
      report.replaceChildren(h('p', {}, `${r.imported} imported, ${r.updated} updated, ${r.skipped.length} skipped.`),
        r.skipped.length ? h('table', { 'aria-label': 'Skipped rows' }, h('thead', {}, h('tr', {}, h('th', {}, 'Row'), h('th', {}, 'Why'))),
          h('tbody', {}, r.skipped.map((x) => h('tr', {}, h('td', {}, x.row), h('td', {}, x.reason))))) : '');
    } catch (x) { note.textContent = ''; report.replaceChildren(h('p', { class: 'error' }, x.message)); }
  });
  page('Import contacts', h('p', {}, 'A fax number already in your contacts updates that contact. Numbers on the ', h('a', { href: '#/fax/dnc' }, 'do-not-contact list'), ' are skipped.'), form, report);
}

/// A CSV sent with its upload's progress on `bar` (a large list takes a while to send on a
/// slow line), then the server's answer. The session's token; a refusal as ApiError.
function uploadWithProgress(path, blob, bar, note) {
  return new Promise((resolve, reject) => {
    const x = new XMLHttpRequest();
    x.open('POST', `/api/v1${path}`);
    x.setRequestHeader('authorization', `Bearer ${tokens().access}`);
    x.setRequestHeader('content-type', 'text/csv');
    bar.hidden = false;
    bar.value = 0;
    x.upload.onprogress = (e) => { if (e.lengthComputable) { bar.max = e.total; bar.value = e.loaded; note.textContent = `Sending… ${Math.round((100 * e.loaded) / e.total)}%`; } };
    x.upload.onload = () => { bar.removeAttribute('value'); note.textContent = 'Checking every row…'; };
    x.onload = () => {
      bar.hidden = true;
      let body = null;
      try { body = JSON.parse(x.responseText); } catch { body = null; }
      if (x.status >= 200 && x.status < 300) resolve(body);
      else reject(new ApiError(x.status, body || { message: `refused (${x.status})` }));
    };
    x.onerror = () => { bar.hidden = true; reject(new Error('The upload did not reach the server.')); };
    x.send(blob);
  });
}

const CAMPAIGN_STATUS = { running: 'Running', paused: 'Paused', cancelled: 'Cancelled', completed: 'Completed' };
const RECIPIENT_STATE = { queued: 'Queued', sending: 'Sending', sent: 'Sent', failed: 'Failed', skipped: 'Skipped' };
const DAYS = [['1', 'Mon'], ['2', 'Tue'], ['3', 'Wed'], ['4', 'Thu'], ['5', 'Fri'], ['6', 'Sat'], ['7', 'Sun']];

/// Bulk fax: the campaigns with live counts and a progress bar each; pause, resume, stop; a
/// report per campaign (its recipients, the results CSV); and Create fax campaign.
export async function campaigns(ctx) {
  stop();
  const status = h('p', { role: 'status' });
  const tbody = h('tbody');
  const empty = h('p', { class: 'empty' }, 'No campaigns yet: create one below.');
  const cols = ['Program name', 'Status', 'Progress', 'Total', 'Done', 'Successful', 'Failed', 'Skipped', ''];
  const table = h('table', { 'aria-label': 'Fax campaigns' }, h('thead', {}, h('tr', {}, cols.map((c) => h('th', {}, c)))), tbody);
  const detail = h('div', { class: 'campaign-report', 'aria-live': 'polite' });
  const act = async (c, what, done) => {
    if (what === 'cancel' && !confirm(`Stop "${c.name}"? Recipients not yet faxed are skipped.`)) return;
    try { await api('POST', `/fax-campaigns/${c.id}/${what}`); status.textContent = `"${c.name}" ${done}.`; await render(); } catch (x) { status.textContent = x.message; }
  };
  async function render() {
    let list;
    try { list = await get('/fax-campaigns?per_page=100'); } catch (e) { if (e instanceof ApiError) { refusal('Bulk fax', e); stop(); return false; } throw e; }
    const buttons = (c) => h('span', { class: 'actions' },
      h('button', { type: 'button', onclick: () => report(c.id) }, 'Report'),
      c.status === 'running' ? h('button', { type: 'button', onclick: () => act(c, 'pause', 'is paused') }, 'Pause') : '',
      c.status === 'paused' ? h('button', { type: 'button', onclick: () => act(c, 'resume', 'resumes') }, 'Resume') : '',
      ['running', 'paused'].includes(c.status) ? h('button', { type: 'button', class: 'danger', onclick: () => act(c, 'cancel', 'is stopped') }, 'Stop') : '');
    syncRows(tbody, list.items, (c) => {
      const n = c.counts;
      const state = (CAMPAIGN_STATUS[c.status] || c.status) + (c.paused_reason ? ` (${c.paused_reason})` : '');
      return [c.name, state, h('progress', { max: 1, value: 0 }), n.total, n.done, n.sent, n.failed, n.skipped, h('span')];
    });
    // The bar follows the counts; the buttons follow the status.
    for (const row of tbody.children) {
      const c = list.items.find((x) => String(x.id) === row.dataset.id);
      if (!c) continue;
      const p = row.children[2].querySelector('progress');
      p.max = Math.max(1, c.counts.total);
      p.value = c.counts.done;
      p.setAttribute('aria-label', `${c.name}: ${c.counts.done} of ${c.counts.total} done`);
      if (row.dataset.shown !== c.status) { row.children[8].replaceChildren(buttons(c)); row.dataset.shown = c.status; }
    }
    empty.hidden = list.items.length > 0;
    table.hidden = list.items.length === 0;
    return true;
  }

  async function report(id) {
    const c = await get(`/fax-campaigns/${id}`);
    const filter = h('select', { 'aria-label': 'Show recipients' }, h('option', { value: '' }, 'All recipients'),
      Object.entries(RECIPIENT_STATE).map(([k, v]) => h('option', { value: k }, v)));
    const rows = h('tbody');
    const load = async () => {
      const q = filter.value ? `&state=${filter.value}` : '';
      const list = await get(`/fax-campaigns/${id}/recipients?per_page=1000${q}`);
      rows.replaceChildren(...list.items.map((r) => h('tr', {}, [r.number, r.name, r.company, RECIPIENT_STATE[r.state] || r.state, r.tries, r.reason].map((v) => h('td', {}, String(v ?? ''))))));
      more.textContent = list.total > list.items.length ? `The first ${list.items.length} of ${list.total}: the results CSV has them all.` : '';
    };
    const more = h('p', { class: 'hint' });
    filter.addEventListener('change', load);
    detail.replaceChildren(h('h2', {}, `Report: ${c.name}`),
      h('p', {}, `${c.document_name}, ${c.pages} page${c.pages === 1 ? '' : 's'}; sends ${c.window_start}–${c.window_end} on ${DAYS.filter(([d]) => c.window_days.includes(d)).map(([, n]) => n).join(' ')}, ${c.max_concurrent} at once, ${c.max_retries} retr${c.max_retries === 1 ? 'y' : 'ies'}.`),
      h('p', {}, filter, ' ', h('button', { type: 'button', onclick: async () => {
        const r = await fetch(`/api/v1/fax-campaigns/${id}/results`, { headers: { authorization: `Bearer ${tokens().access}` } });
        if (!r.ok) { status.textContent = `The results could not be downloaded (${r.status}).`; return; }
        download(`campaign-${id}-results.csv`, await r.blob());
      } }, 'Download results (CSV)')),
      h('table', { 'aria-label': 'Recipients' }, h('thead', {}, h('tr', {}, ['Number', 'Name', 'Company', 'State', 'Tries', 'Why'].map((x) => h('th', {}, x)))), rows), more);
    await load();
  }

  let docs = []; let groups = []; let covers = [];
  try { docs = (await get('/fax-documents?per_page=500')).items; } catch { docs = []; }
  // Contact groups are the contacts token's: a user without it sends to a list.
  if (ctx.allowed('GET', '/fax-groups')) { try { groups = (await get('/fax-groups?per_page=500')).items; } catch { groups = []; } }
  try { covers = (await get('/fax-cover-pages?per_page=500')).items; } catch { covers = []; }
  const field = (id, text, input, hint) => h('div', { class: 'field' }, h('label', { for: id }, text), input, hint ? h('span', { class: 'hint' }, hint) : '');
  const cover = h('select', { id: 'fc-cover', name: 'cover' }, h('option', { value: '' }, '(no cover page)'), covers.map((c) => h('option', { value: c.id, selected: c.is_default }, c.name)));
  const preview = h('div', { class: 'preview', 'aria-live': 'polite' });
  const bar = h('progress', { hidden: true, 'aria-label': 'Sending the list' });
  const note = h('span', { role: 'status' });
  const form = h('form', { class: 'card', 'aria-label': 'Create fax campaign' },
    h('h2', {}, 'Create fax campaign'),
    field('fc-name', 'Program name', h('input', { id: 'fc-name', name: 'name', required: true, maxlength: 200 })),
    field('fc-doc', 'Document', h('select', { id: 'fc-doc', name: 'document', required: true }, h('option', { value: '' }, 'Choose a document'),
      docs.map((d) => h('option', { value: d.id }, `${d.name} (${d.pages} page${d.pages === 1 ? '' : 's'})`))),
    docs.length ? '' : h('a', { href: '#/fax/documents' }, 'Add one to Fax documents first')),
    field('fc-cover', 'Cover page', cover, h('button', { type: 'button', onclick: () => cover.value && openPdf(`/fax-cover-pages/${cover.value}/preview`, 'Cover page preview', preview) }, 'Preview')),
    field('fc-subject', 'Subject', h('input', { id: 'fc-subject', name: 'subject', maxlength: 200 })),
    field('fc-message', 'Message (on the cover page)', h('textarea', { id: 'fc-message', name: 'message', maxlength: 2000, rows: 3 })),
    h('fieldset', {}, h('legend', {}, 'Recipients'),
      groups.length ? groups.map((g) => h('label', { class: 'check' }, h('input', { type: 'checkbox', name: 'group', value: g.id }), ` ${g.name}`)) : h('p', {}, 'No contact groups yet.'),
      field('fc-list', 'or a list (CSV: number, name, company)', h('input', { id: 'fc-list', name: 'list', type: 'file', accept: '.csv,text/csv' }),
        h('button', { type: 'button', onclick: () => download('campaign-sample.csv', new Blob(['number,name,company\n+12125550199,Jane Roe,Acme Inc.\n'], { type: 'text/csv' })) }, 'Sample CSV'))),
    h('fieldset', {}, h('legend', {}, 'When'),
      field('fc-start', 'Start', h('input', { id: 'fc-start', name: 'start', type: 'datetime-local' }), 'your local time; now when empty'),
      field('fc-from', 'Send from', h('input', { id: 'fc-from', name: 'from', type: 'time', value: '08:00' }), "in the tenant's time zone"),
      field('fc-to', 'until', h('input', { id: 'fc-to', name: 'to', type: 'time', value: '20:00' })),
      h('div', { class: 'days' }, DAYS.map(([d, n]) => h('label', { class: 'check' }, h('input', { type: 'checkbox', name: 'day', value: d, checked: Number(d) <= 5 }), ` ${n}`)))),
    field('fc-conc', 'At once', h('input', { id: 'fc-conc', name: 'concurrent', type: 'number', min: 1, max: 30, value: 2 })),
    field('fc-retries', 'Retries per recipient', h('input', { id: 'fc-retries', name: 'retries', type: 'number', min: 0, max: 10, value: 2 })),
    field('fc-delay', 'Seconds between tries', h('input', { id: 'fc-delay', name: 'delay', type: 'number', min: 30, max: 86400, value: 300 })),
    h('p', { class: 'error', role: 'alert' }), bar, ' ', note,
    h('button', { type: 'submit', class: 'primary' }, 'Submit'));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const err = form.querySelector('.error');
    err.textContent = '';
    const el = form.elements;
    const file = el.list.files[0];
    // The request's own limit: a longer list goes in through Import contacts, into a group.
    if (file && file.size > 1000000) { err.textContent = 'The list is over 1 MB: import it into a contact group (Import contacts) and choose the group.'; return; }
    const body = {
      name: el.name.value.trim(), document_id: Number(el.document.value), subject: el.subject.value, message: el.message.value,
      groups: [...form.querySelectorAll('input[name=group]:checked')].map((x) => Number(x.value)),
      recipients_csv: file ? await file.text() : '',
      window_start: el.from.value || '00:00', window_end: el.to.value === '00:00' ? '24:00' : (el.to.value || '24:00'),
      window_days: [...form.querySelectorAll('input[name=day]:checked')].map((x) => x.value).join(''),
      max_concurrent: Number(el.concurrent.value), max_retries: Number(el.retries.value), retry_delay: Number(el.delay.value),
    };
    if (el.cover.value) body.cover_page_id = Number(el.cover.value);
    if (el.start.value) body.start_at = new Date(el.start.value).toISOString();
    note.textContent = 'Making the campaign…';
    try {
      const c = await api('POST', '/fax-campaigns', body);
      note.textContent = '';
      status.textContent = `"${c.name}" made: ${c.counts.total - c.counts.skipped} to fax, ${c.counts.skipped} skipped.`;
      form.reset();
      await render();
      await report(c.id);
    } catch (x) { note.textContent = ''; err.textContent = x.message; }
  });
  page('Bulk fax', status, empty, table, detail, form, preview);
  if (!(await render())) return;
  timer = setInterval(render, 2000);
}
