// Editors for a resource form's fields, chosen from each field's schema in the OpenAPI
// document so a field the API adds gets the right control without a second definition:
// a destination picker for `Destination`; a select for a reference ("id of a row of
// extensions"); a table of rows for a list of objects (IVR digit → destination, ring-group
// members, follow-me steps, rates, feature keys, device lines, queue agents); checkboxes
// for a set of choices; money in units for micro-unit amounts.
//
// Each editor is `{ el, get }`: `get()` returns the value to send, `undefined` to leave the
// field out, or throws `Invalid` with the message shown beside the field. Nothing is
// checked here that the API checks: its field errors are shown beside the fields.

import { get, loadedSpec, openapi } from '../api.js';
import { h, inWords, label } from '../ui.js';

export class Invalid extends Error {}

/// Destination type → the list its `id` is chosen from.
const DEST_SOURCES = {
  extension: 'extensions', ring_group: 'ring-groups', ivr: 'ivr-menus', queue: 'call-queues',
  voicemail: 'voicemail-boxes', conference: 'conferences', call_flow: 'call-flows',
  time_condition: 'time-conditions', fax: 'extensions?type=fax',
};

/// Lists whose order matters (a phone offers codecs in this order): rows, not a set.
const ORDERED = new Set(['codecs']);

let seq = 0;
const nextId = (name) => `f-${name}-${++seq}`;

/// The list a reference field's id comes from, read from the API's own description.
export function refSource(name, schema) {
  const d = schema.description || '';
  const m = d.match(/id of a row of (\w+)/);
  if (m) return m[1].replace(/_/g, '-');
  if (/id of a user/.test(d)) return 'users';
  if (name === 'tenant_id') return 'tenants';
  return null;
}

export const isMoney = (schema) => /micro-units/.test(schema.description || '');

/// A field's label: the API's words for it (api/words.rs), else its name made readable.
export const titleOf = (name, schema) => (schema && schema.title) || label(name);

/// What an object in a list is called in a select: its number and name, or what it has.
function optionLabel(it) {
  const name = it.name || it.display_name || it.company || it.label || it.email || it.mac || it.pattern;
  return [it.number ?? it.fax, name].filter((x) => x !== undefined && x !== null && x !== '').join(' · ') || `#${it.id}`;
}

/// Loads each list once per form; a tenant's own objects only when the form is for one tenant.
export function loader(tenantId) {
  const cache = new Map();
  return (source) => {
    if (!cache.has(source)) {
      cache.set(source, (async () => {
        const spec = await openapi();
        const [path, q] = source.split('?');
        const owned = spec.components.schemas[path]?.properties?.tenant_id && tenantId;
        const params = new URLSearchParams(q || '');
        params.set('per_page', '500');
        if (owned) params.set('tenant_id', tenantId);
        return (await get(`/${path}?${params}`)).items;
      })());
    }
    return cache.get(source);
  };
}

/// Lists longer than this get a search box beside their select.
const SEARCH_FROM = 8;

function refSelect(id, source, value, aria, load) {
  const blank = () => h('option', { value: '' }, '—');
  const current = () => (value === undefined || value === null ? null : h('option', { value, selected: true }, `#${value}`));
  let el = h('select', { id, 'aria-label': aria }, blank(), current());
  load(source).then((items) => {
    el.replaceChildren(blank(), ...items.map((it) => h('option', { value: it.id, selected: it.id === value }, optionLabel(it))));
    if (value !== undefined && value !== null && !items.some((it) => it.id === value)) el.append(current());
    if (items.length > SEARCH_FROM) {
      // Chosen by name with search: typing narrows the options (the chosen one stays).
      const find = h('input', { type: 'search', class: 'ref-search', placeholder: 'Search…', 'aria-label': `Search ${aria || 'the list'}` });
      find.addEventListener('input', () => {
        const q = find.value.trim().toLowerCase();
        for (const o of el.options) o.hidden = !!q && o.value !== '' && !o.selected && !o.textContent.toLowerCase().includes(q);
        const first = [...el.options].find((o) => !o.hidden && o.value !== '');
        if (q && first && !el.value) el.value = first.value;
      });
      el.before(find);
    }
  }, () => {
    // This user may not read that list: the id is typed instead.
    const input = h('input', { id, type: 'number', 'aria-label': aria, value: value ?? '' });
    el.replaceWith(input);
    el = input;
  });
  return {
    get el() { return el; },
    get: () => (el.value === '' ? null : Number(el.value)),
  };
}

function destination(id, name, value, schema, aria, load) {
  const v = value || {};
  const spec = schema.properties;
  const type = h('select', { id, 'aria-label': `${aria} type` }, h('option', { value: '' }, '—'),
    spec.type.enum.map((t) => h('option', { value: t, selected: v.type === t }, t.replace(/_/g, ' '))));
  const slot = h('span', { class: 'dest-target' });
  let detail = null;
  const show = () => {
    const t = type.value;
    const same = v.type === t;
    if (t === 'queue') {
      // A queue also takes the priority its callers get in line from this route.
      const ref = refSelect(nextId(name), DEST_SOURCES[t], same ? v.id : undefined, `${aria} queue`, load);
      const max = spec.priority.maximum;
      const prio = h('input', { type: 'number', min: 0, max, value: same ? v.priority || 0 : 0, 'aria-label': `${aria} priority`, title: `Priority in line (0–${max}, higher first)` });
      detail = { el: h('span', {}, ref.el, ' priority ', prio), get: () => ({ id: ref.get(), priority: Number(prio.value) || 0 }) };
    } else if (DEST_SOURCES[t]) detail = refSelect(nextId(name), DEST_SOURCES[t], same ? v.id : undefined, `${aria} ${t.replace(/_/g, ' ')}`, load);
    else if (t === 'external') {
      const input = h('input', { type: 'tel', 'aria-label': `${aria} number`, value: same ? v.number || '' : '', placeholder: '+12125550100' });
      detail = { el: input, get: () => input.value.trim() };
    } else if (t === 'hangup') {
      const sel = h('select', { 'aria-label': `${aria} cause` }, spec.cause.enum.map((c) => h('option', { value: c, selected: (same ? v.cause : 'NORMAL_CLEARING') === c }, c)));
      detail = { el: sel, get: () => sel.value };
    } else detail = null;
    slot.replaceChildren(detail ? detail.el : '');
  };
  type.addEventListener('change', show);
  show();
  return {
    el: h('span', { class: 'destination' }, type, slot),
    get: () => {
      const t = type.value;
      if (t === '') return value ? null : undefined;
      const d = detail ? detail.get() : undefined;
      if (t === 'queue') return { type: t, ...(d.id === null ? {} : { id: d.id }), ...(d.priority ? { priority: d.priority } : {}) };
      if (DEST_SOURCES[t]) return d === null ? { type: t } : { type: t, id: d };
      if (t === 'external') return { type: t, number: d };
      if (t === 'hangup') return { type: t, cause: d };
      return { type: t };
    },
  };
}

function checkboxes(name, schema, value, aria) {
  const chosen = new Set(value || []);
  const boxes = schema.items.enum.map((o) => h('input', { type: 'checkbox', value: o, checked: chosen.has(o) }));
  const titles = schema.items['x-enum-titles'] || {};
  return {
    el: h('span', { class: 'choices', role: 'group', 'aria-label': aria }, boxes.map((b) => h('label', {}, b, ' ', titles[b.value] || inWords(b.value)))),
    get: () => boxes.filter((b) => b.checked).map((b) => b.value),
  };
}

/// A list of objects as a table: one column per property, rows added, moved and removed.
function rows(id, name, schema, value, aria, load) {
  const item = schema.items;
  const cols = item.properties ? Object.entries(item.properties) : [[null, item]];
  const body = h('tbody');
  const list = [];
  const one = label(name).replace(/s$/, '').toLowerCase();
  const redraw = () => body.replaceChildren(...list.map((r) => r.tr));
  const add = (v) => {
    const n = list.length + 1;
    const cells = cols.map(([k, s]) => [k, editor(k || name, s, k ? v?.[k] : v, { load, clearable: false, aria: `${k ? titleOf(k, s) : label(one)} ${n}` })]);
    const row = { cells };
    const move = (by) => () => {
      const i = list.indexOf(row);
      const j = i + by;
      if (j < 0 || j >= list.length) return;
      [list[i], list[j]] = [list[j], list[i]];
      redraw();
    };
    row.tr = h('tr', {}, cells.map(([, e]) => h('td', {}, e.el)),
      h('td', { class: 'row-actions' },
        h('button', { type: 'button', title: 'Move up', 'aria-label': `Move ${one} ${n} up`, onclick: move(-1) }, '↑'),
        h('button', { type: 'button', title: 'Move down', 'aria-label': `Move ${one} ${n} down`, onclick: move(1) }, '↓'),
        h('button', { type: 'button', class: 'danger', 'aria-label': `Remove ${one} ${n}`, onclick: () => { list.splice(list.indexOf(row), 1); redraw(); } }, 'Remove')));
    list.push(row);
    redraw();
    return row;
  };
  for (const v of value || []) add(v);
  const addButton = h('button', { type: 'button', onclick: () => { const r = add(undefined); r.tr.querySelector('select, input')?.focus(); } }, `Add ${one}`);
  return {
    el: h('div', { class: 'rows', id, role: 'group', 'aria-label': aria },
      h('table', {}, h('thead', {}, h('tr', {}, cols.map(([k, s]) => h('th', { title: (k && s['x-help']) || '' }, k ? titleOf(k, s) : label(one))), h('th', {}, ''))), body),
      addButton),
    get: () => list.map((r) => {
      if (cols[0][0] === null) return r.cells[0][1].get();
      const o = {};
      for (const [k, e] of r.cells) { const x = e.get(); if (x !== undefined && x !== null && x !== '') o[k] = x; }
      return o;
    }).filter((o) => o !== undefined && o !== '' && (typeof o !== 'object' || Object.keys(o).length > 0)),
  };
}

function json(id, value, aria) {
  const el = h('textarea', { id, spellcheck: 'false', 'aria-label': aria });
  el.value = value === undefined || value === null ? '' : JSON.stringify(value);
  return {
    el,
    get: () => {
      if (el.value.trim() === '') return undefined;
      try { return JSON.parse(el.value); } catch (e) { throw new Invalid(`not valid JSON: ${e.message}`); }
    },
  };
}

/// The editor a field's schema calls for. `clearable`: an emptied field is sent as null
/// (editing), not left out (creating, and inside list rows).
///
/// `aria` names a control that has no label element of its own (a cell of a row); a
/// field's own control is named by its label, which an aria-label would override.
export function editor(name, schema, value, { load, clearable = false, aria, id = nextId(name) }) {
  const named = aria || titleOf(name, schema);
  if (schema.$ref) {
    const ref = schema.$ref.split('/').pop();
    return destinationOf(ref, id, name, value, named, load);
  }
  const type = Array.isArray(schema.type) ? schema.type.find((t) => t !== 'null') : schema.type;
  if (type === 'array') {
    if (schema.items.enum && !ORDERED.has(name)) return checkboxes(name, schema, value, named);
    if (schema.items.properties || schema.items.enum) return rows(id, name, schema, value, named, load);
    return json(id, value, aria);
  }
  if (type === 'object') return json(id, value, aria);
  if (type === 'boolean') {
    const el = h('input', { id, type: 'checkbox', checked: !!value, 'aria-label': aria });
    return { el, get: () => el.checked };
  }
  const empty = () => (clearable ? null : undefined);
  if (schema.enum) {
    const el = h('select', { id, 'aria-label': aria }, h('option', { value: '' }, '—'), schema.enum.map((o) => h('option', { value: o, selected: value === o }, inWords(o))));
    return { el, get: () => (el.value === '' ? undefined : el.value) };
  }
  if (type === 'integer') {
    const source = refSource(name, schema);
    if (source) {
      const w = refSelect(id, source, value, aria, load);
      return { get el() { return w.el; }, get: () => { const x = w.get(); return x === null ? empty() : x; } };
    }
    if (isMoney(schema)) {
      const el = h('input', { id, type: 'number', step: '0.000001', inputmode: 'decimal', value: value === undefined || value === null ? '' : value / 1e6, 'aria-label': aria });
      return { el, get: () => (el.value === '' ? empty() : Math.round(Number(el.value) * 1e6)) };
    }
    const el = h('input', { id, type: 'number', value: value ?? '', 'aria-label': aria, placeholder: example(schema) });
    return { el, get: () => (el.value === '' ? empty() : Number(el.value)) };
  }
  if (schema['x-sound']) return sound(id, value, aria, load, clearable);
  if (schema['x-image-bytes']) return image(id, value, aria, schema['x-image-bytes'], clearable);
  // Long text (notes, a cover page's body) gets lines; its description says what it may hold.
  if (type === 'string' && schema.maxLength >= 1000) {
    const el = h('textarea', { id, rows: 6, maxlength: schema.maxLength, 'aria-label': aria, placeholder: example(schema) || schema['x-help'] || '' });
    el.value = value ?? '';
    return { el, get: () => (el.value === '' && !clearable ? undefined : el.value) };
  }
  const input = schema.writeOnly ? 'password' : { date: 'date', email: 'email' }[schema.format] || 'text';
  const el = h('input', { id, type: input, value: value ?? '', autocomplete: 'off', 'aria-label': aria, placeholder: example(schema) });
  return { el, get: () => (el.value === '' && (schema.writeOnly || !clearable) ? undefined : el.value) };
}

/// A greeting: one of the tenant's uploaded recordings (`sound:<id>`), with Listen; or a
/// sound of FreeSWITCH's own, by its path; or none.
function sound(id, value, aria, load, clearable) {
  const OTHER = '__path';
  const pick = h('select', { id, 'aria-label': aria }, h('option', { value: '' }, '— none —'));
  const path = h('input', { type: 'text', 'aria-label': `${aria || 'Greeting'} path`, placeholder: 'e.g. ivr/ivr-welcome.wav', hidden: true, value: value && !value.startsWith('sound:') ? value : '' });
  const audio = h('audio', { controls: true, hidden: true });
  const play = h('button', { type: 'button', hidden: true, onclick: async () => {
    const { listen } = await import('./pbx.js');
    try { await listen(audio, pick.value.slice('sound:'.length)); } catch (e) { play.title = e.message; }
  } }, 'Listen');
  const show = () => { path.hidden = pick.value !== OTHER; play.hidden = !pick.value.startsWith('sound:'); };
  load('sounds').then((items) => {
    pick.append(...items.map((x) => h('option', { value: `sound:${x.id}`, selected: value === `sound:${x.id}` }, `Recording: ${x.name}`)));
    if (value && value.startsWith('sound:') && !items.some((x) => `sound:${x.id}` === value)) pick.append(h('option', { value, selected: true }, `${value} (gone)`));
  }, () => { /* recordings not readable here: paths only */ }).finally(() => {
    pick.append(h('option', { value: OTHER, selected: !!value && !value.startsWith('sound:') }, 'A FreeSWITCH sound, by its path…'));
    show();
  });
  pick.addEventListener('change', show);
  return {
    el: h('span', { class: 'sound-pick' }, pick, ' ', play, path, audio),
    get: () => {
      const v = pick.value === OTHER ? path.value.trim() : pick.value;
      return v === '' && !clearable ? undefined : v;
    },
  };
}

/// An image (branding): chosen from a file, checked here for type and size (the API checks
/// its bytes again), shown as it will look; Remove clears it.
function image(id, value, aria, max, clearable) {
  let current = value || '';
  const preview = h('img', { alt: '', class: 'image-preview', hidden: !current, src: current || undefined });
  const input = h('input', { id, type: 'file', accept: 'image/png,image/jpeg,image/gif,image/webp,image/x-icon,.ico', 'aria-label': aria });
  const note = h('span', { class: 'hint' });
  const remove = h('button', { type: 'button', hidden: !current, onclick: () => { current = ''; preview.hidden = true; remove.hidden = true; input.value = ''; note.textContent = 'Removed: save to apply.'; } }, 'Remove');
  input.addEventListener('change', () => {
    const f = input.files[0];
    if (!f) return;
    if (!/^image\/(png|jpeg|gif|webp|x-icon|vnd\.microsoft\.icon)$/.test(f.type)) { note.textContent = `${f.name} is not a PNG, JPEG, GIF, WebP or icon image.`; input.value = ''; return; }
    if (f.size > max) { note.textContent = `${f.name} is ${Math.ceil(f.size / 1024)} KB; at most ${Math.floor(max / 1024)} KB.`; input.value = ''; return; }
    const r = new FileReader();
    r.onload = () => { current = r.result; preview.src = current; preview.hidden = false; remove.hidden = false; note.textContent = `${f.name}: save to apply.`; };
    r.readAsDataURL(f);
  });
  return {
    el: h('span', { class: 'image-pick' }, preview, input, remove, note),
    get: () => (current === '' && !clearable ? undefined : current),
  };
}

/// The API's example for a field, as its placeholder.
const example = (schema) => (schema.examples && schema.examples[0] !== undefined ? `e.g. ${schema.examples[0]}` : undefined);

function destinationOf(ref, id, name, value, aria, load) {
  const schema = loadedSpec()?.components.schemas[ref];
  if (ref !== 'Destination' || !schema) return json(id, value, aria);
  return destination(id, name, value, schema, aria, load);
}
