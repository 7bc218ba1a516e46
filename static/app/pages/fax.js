// Fax: Send Fax (a PDF, uploaded or from Fax Documents, to a number), Outbound Fax
// (statuses updated live, in place), Inbound Fax (open a received fax's PDF in the
// browser), Fax Documents (the library of PDFs to send), My DIDs, Fax Settings and the
// do-not-contact list.

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
  let docs = [];
  try { docs = (await get('/fax-documents?per_page=500')).items; } catch { docs = []; }
  const status = h('p', { role: 'status' });
  const file = h('div', { class: 'field', 'data-field': 'file' }, h('label', { for: 'fax-file' }, 'PDF to upload'),
    h('input', { id: 'fax-file', name: 'file', type: 'file', accept: 'application/pdf,.pdf' }));
  const source = h('select', { id: 'fax-document', name: 'document' }, h('option', { value: '' }, 'Upload a PDF now'),
    docs.map((d) => h('option', { value: d.id }, `${d.name} (${d.pages} page${d.pages === 1 ? '' : 's'})`)));
  const chosen = () => { file.hidden = source.value !== ''; file.querySelector('input').required = source.value === ''; };
  source.addEventListener('change', chosen);
  // "Send" on Fax documents comes here with the document chosen.
  const pre = sessionStorage.getItem('fax-document');
  if (pre && docs.some((d) => String(d.id) === pre)) source.value = pre;
  sessionStorage.removeItem('fax-document');
  const form = h('form', { class: 'card', 'aria-label': 'Send a fax' },
    h('div', { class: 'field' }, h('label', { for: 'fax-number' }, 'Fax number'), h('input', { id: 'fax-number', name: 'number', type: 'tel', required: true, placeholder: '+12125550123' })),
    h('div', { class: 'field' }, h('label', { for: 'fax-subject' }, 'Subject'), h('input', { id: 'fax-subject', name: 'subject', maxlength: 200 })),
    h('div', { class: 'field' }, h('label', { for: 'fax-document' }, 'Document'), source,
      h('span', { class: 'hint' }, docs.length ? 'or one kept in ' : 'Keep documents you send often in ', h('a', { href: '#/fax/documents' }, 'Fax documents'))),
    file,
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
    status.textContent = 'Checking the document…';
    try {
      const f = await api('POST', `/faxes/outbound?${q}`, body);
      status.textContent = `Queued: fax to ${f.number}, ${f.pages} page${f.pages === 1 ? '' : 's'}.`;
      location.hash = '#/fax/outbound';
    } catch (x) {
      status.textContent = '';
      err.textContent = x.message;
    }
  });
  page('Send fax', status, form);
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
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    report.replaceChildren(h('p', {}, 'Importing…'));
    const q = form.elements.group.value ? `?group=${form.elements.group.value}` : '';
    try {
      const r = await api('POST', `/fax-contacts/import${q}`, new Blob([await form.elements.file.files[0].arrayBuffer()], { type: 'text/csv' }));
      report.replaceChildren(h('p', {}, `${r.imported} imported, ${r.updated} updated, ${r.skipped.length} skipped.`),
        r.skipped.length ? h('table', { 'aria-label': 'Skipped rows' }, h('thead', {}, h('tr', {}, h('th', {}, 'Row'), h('th', {}, 'Why'))),
          h('tbody', {}, r.skipped.map((x) => h('tr', {}, h('td', {}, x.row), h('td', {}, x.reason))))) : '');
    } catch (x) { report.replaceChildren(h('p', { class: 'error' }, x.message)); }
  });
  page('Import contacts', h('p', {}, 'A fax number already in your contacts updates that contact. Numbers on the ', h('a', { href: '#/fax/dnc' }, 'do-not-contact list'), ' are skipped.'), form, report);
}
