// Billing pages, as the getting-started guide's section 14 describes them: subscriptions
// with inline package reassignment, payments, the quota cards, usage for the billing
// period with a chart, and the statistics report (call volume and minutes over time).

import { api, ApiError, get } from '../api.js';
import { bars, bucket } from '../chart.js';
import { h, label, money, page, pager, refusal, showFieldErrors } from '../ui.js';

/// A super admin picks the tenant (the billing API needs one); others see their own.
/// Returns [the tenant id or null, the picker element or null].
async function tenantPicker(ctx, base) {
  if (ctx.me.user.role !== 'super_admin') return [null, null];
  const tenants = (await get('/tenants?per_page=500')).items;
  const id = Number(ctx.query.tenant_id) || tenants[0]?.id;
  const sel = h('select', { id: 'tenant-pick', onchange: (e) => { location.hash = `${base}?tenant_id=${e.target.value}`; } },
    tenants.map((t) => h('option', { value: t.id, selected: t.id === id }, t.company)));
  return [id, h('div', { class: 'toolbar' }, h('label', { for: 'tenant-pick' }, 'Tenant'), sel)];
}

const withTenant = (path, id) => (id ? `${path}${path.includes('?') ? '&' : '?'}tenant_id=${id}` : path);

async function guarded(title, body) {
  try { return await body(); } catch (e) {
    if (e instanceof ApiError) return refusal(title, e);
    throw e;
  }
}

export function subscriptions() {
  return guarded('Subscriptions', async () => {
    const [tenants, packages, subs] = await Promise.all([get('/tenants?per_page=500'), get('/packages?per_page=500'), get('/subscriptions')]);
    const active = Object.fromEntries(subs.items.filter((s) => s.active).map((s) => [s.tenant_id, s]));
    const status = h('p', { role: 'status' });
    const rows = tenants.items.map((t) => {
      const current = active[t.id];
      const since = h('td', {}, current ? current.started_at : '');
      const sel = h('select', { 'aria-label': `Package for ${t.company}` },
        current ? null : h('option', { value: '' }, 'No package'),
        packages.items.map((p) => h('option', { value: p.id, selected: current && current.package_id === p.id }, p.name)));
      sel.addEventListener('change', async () => {
        try {
          const s = await api('POST', '/subscriptions', { tenant_id: t.id, package_id: Number(sel.value) });
          active[t.id] = s;
          since.textContent = s.started_at;
          sel.querySelector('option[value=""]')?.remove();
          status.textContent = `${t.company} is now on ${s.package || sel.selectedOptions[0].textContent}; its quota follows the new package.`;
        } catch (e) {
          // Back to the package the tenant is still on (the row's last answer, not the page's first).
          sel.value = active[t.id] ? String(active[t.id].package_id) : '';
          status.textContent = e.message;
        }
      });
      return h('tr', {}, h('td', {}, t.company), h('td', {}, sel), since);
    });
    return page('Subscriptions',
      h('p', {}, 'Choosing another package ends the current subscription and applies the new limits at once.'),
      h('table', {}, h('thead', {}, h('tr', {}, ['Tenant', 'Package', 'Since'].map((x) => h('th', {}, x)))), h('tbody', {}, rows)),
      status);
  });
}

export function payments(ctx) {
  return guarded('Payments', async () => {
    const pageNo = Number(ctx.query.page || 1);
    const superAdmin = ctx.me.user.role === 'super_admin';
    const [list, tenants] = await Promise.all([
      get(`/payments?page=${pageNo}&per_page=25`),
      superAdmin ? get('/tenants?per_page=500') : Promise.resolve({ items: [] }),
    ]);
    const company = Object.fromEntries(tenants.items.map((t) => [t.id, t.company]));
    const table = h('table', {},
      h('thead', {}, h('tr', {}, [superAdmin ? 'Tenant' : null, 'Date', 'Amount', 'Type', 'Note', 'Balance after'].filter(Boolean).map((x) => h('th', {}, x)))),
      h('tbody', {}, list.items.length ? list.items.map((p) => h('tr', {},
        superAdmin ? h('td', {}, company[p.tenant_id] || `#${p.tenant_id}`) : null,
        h('td', {}, p.at), h('td', {}, money(p.amount)), h('td', {}, label(p.payment_type || '')), h('td', {}, p.note || ''), h('td', {}, money(p.balance_after))))
        : h('tr', {}, h('td', { colspan: 6 }, 'No payments yet.'))));
    return page('Payments', ctx.allowed('POST', '/payments') ? paymentForm(tenants.items) : null, table, pager(list, pageNo, (n) => `#/payments?page=${n}`));
  });
}

function paymentForm(tenants) {
  const f = (name, lab, control) => h('div', { class: 'field', 'data-field': name },
    h('label', { for: `pay-${name}` }, lab), control, h('span', { class: 'error', role: 'alert' }));
  const form = h('form', { class: 'edit', novalidate: true, 'aria-label': 'Add payment' },
    h('h2', {}, 'Add payment'),
    f('tenant_id', 'Tenant *', h('select', { id: 'pay-tenant_id', name: 'tenant_id' }, h('option', { value: '' }, 'Choose…'), tenants.map((t) => h('option', { value: t.id }, t.company)))),
    f('amount', 'Amount *', h('input', { id: 'pay-amount', name: 'amount', type: 'number', step: '0.01', min: '0', inputmode: 'decimal' })),
    f('payment_type', 'Payment type *', h('select', { id: 'pay-payment_type', name: 'payment_type' }, ['bank_transfer', 'online', 'cash'].map((t) => h('option', { value: t }, label(t))))),
    f('date', 'Date', h('input', { id: 'pay-date', name: 'date', type: 'date' })),
    f('note', 'Note', h('input', { id: 'pay-note', name: 'note', placeholder: 'Invoice number, reference' })),
    h('div', { class: 'toolbar' }, h('button', { type: 'submit', class: 'primary' }, 'Record payment')),
    h('p', { role: 'status' }));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const el = form.elements;
    const body = { payment_type: el.payment_type.value, note: el.note.value };
    if (el.tenant_id.value) body.tenant_id = Number(el.tenant_id.value);
    if (el.amount.value !== '') body.amount = Math.round(Number(el.amount.value) * 1e6);
    if (el.date.value) body.date = el.date.value;
    try {
      await api('POST', '/payments', body);
      location.hash = `#/payments?t=${Date.now()}`;
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      showFieldErrors(form, err.fields);
      form.querySelector('[role=status]').textContent = err.message;
    }
  });
  return form;
}

/// A figure and what it counts.
const stat = ([what, n]) => h('div', { class: 'card', 'data-card': what }, h('div', { class: 'n' }, n), what);

/// The package's resource slots as the guide names them.
const SLOTS = { ivr_menus: 'IVR menus', voicemails: 'Voicemail boxes', music_on_hold: 'Music on hold classes' };

export function card(title, used, limit) {
  const unlimited = limit === null || limit === undefined || limit < 0;
  const share = unlimited || limit === 0 ? (used > 0 && limit === 0 ? 1 : 0) : used / limit;
  const cls = share >= 1 ? 'card full' : share >= 0.8 ? 'card near' : 'card';
  return h('div', { class: cls, 'data-card': title },
    h('div', { class: 'n' }, used), h('div', {}, `${title}: ${used} of ${unlimited ? 'unlimited' : limit}`),
    unlimited ? null : h('div', { class: 'meter', role: 'meter', 'aria-label': title, 'aria-valuemin': 0, 'aria-valuemax': limit, 'aria-valuenow': used },
      h('span', { 'data-share': Math.min(100, Math.round(share * 100)) })));
}

/// Meters are sized here, not in markup (style attributes stay out of the HTML we build).
export function sizeMeters(root) {
  for (const s of root.querySelectorAll('.meter > span')) s.style.width = `${s.dataset.share}%`;
}

export function quota(ctx) {
  return guarded('Billing quota', async () => {
    const [tenant, picker] = await tenantPicker(ctx, '#/quota');
    const q = await get(withTenant('/quota', tenant));
    let credit = null;
    try { credit = await get(withTenant('/credit', tenant)); } catch { /* not shown */ }
    const kinds = { voice_minutes: 'Voice minutes this month', fax_pages: 'Fax pages this month', conference_minutes: 'Conference minutes this month' };
    const main = page('Billing quota', picker,
      h('p', {}, q.package ? `Package: ${q.package}` : 'No package assigned: ask the administrator for a subscription.'),
      h('h2', {}, 'Resources'),
      h('div', { class: 'cards', 'aria-label': 'Resource slots' }, q.slots.map((s) => card(SLOTS[s.slot] || label(s.slot), s.used, s.limit))),
      h('h2', {}, 'Usage'),
      h('div', { class: 'cards', 'aria-label': 'Usage' },
        q.usage.map((u) => card(kinds[u.kind] || label(u.kind), u.used, u.allocated)),
        card('Transactions today', q.transactions.daily.used, q.transactions.daily.limit),
        card('Transactions this month', q.transactions.monthly.used, q.transactions.monthly.limit),
        credit ? h('div', { class: credit.low_credit ? 'card full' : 'card', 'data-card': 'Credit' }, h('div', { class: 'n' }, money(credit.available)), 'Credit available', credit.held ? ` (${money(credit.held)} held by calls in progress)` : '') : null));
    sizeMeters(main);
    return main;
  });
}

function periodForm(base, from, to, tenant) {
  const a = h('input', { id: 'from', type: 'date', value: from });
  const b = h('input', { id: 'to', type: 'date', value: to });
  return h('form', { class: 'toolbar', onsubmit: (e) => {
    e.preventDefault();
    const q = new URLSearchParams({ from: a.value, to: b.value });
    if (tenant) q.set('tenant_id', tenant);
    location.hash = `${base}?${q}`;
  } }, h('label', { for: 'from' }, 'From'), a, h('label', { for: 'to' }, 'To'), b, h('button', { type: 'submit' }, 'Show'));
}

export function usage(ctx) {
  return guarded('Billing usage', async () => {
    const [tenant, picker] = await tenantPicker(ctx, '#/usage');
    const q = new URLSearchParams();
    if (ctx.query.from) q.set('from', ctx.query.from);
    if (ctx.query.to) q.set('to', ctx.query.to);
    const u = await get(withTenant(`/usage?${q}`, tenant));
    let flagged = { items: [] };
    try { flagged = await get(withTenant('/flagged-calls?per_page=20', tenant)); } catch { /* not shown */ }
    const t = u.total;
    const rows = bucket(u.days, ['minutes', 'charges']);
    return page('Billing usage', picker, periodForm('#/usage', u.from, u.to, tenant),
      h('p', {}, `${u.from} to ${u.to}, by local day in ${u.timezone}.`),
      h('div', { class: 'cards', 'aria-label': 'Period totals' },
        [['Calls', t.calls], ['Answered', t.answered], ['Minutes', t.minutes], ['Charges', money(t.charges)]].map(stat)),
      bars('Minutes a day', rows, [['minutes', 'Minutes', 'bar']]),
      bars('Charges a day', rows, [['charges', 'Charges', 'bar2']], money),
      h('table', {}, h('thead', {}, h('tr', {}, ['Day', 'Calls', 'Answered', 'Minutes', 'Charges'].map((x) => h('th', {}, x)))),
        h('tbody', {}, [...u.days].reverse().filter((d) => d.calls).map((d) => h('tr', {}, h('td', {}, d.date), h('td', {}, d.calls), h('td', {}, d.answered), h('td', {}, d.minutes), h('td', {}, money(d.charges)))))),
      flagged.items.length ? [h('h2', {}, 'Calls flagged for review (ran on no credit)'),
        h('ul', {}, flagged.items.map((f) => h('li', {}, `${f.started_at} ${f.caller_number} → ${f.callee}, ${f.billsec} s, ${money(f.charge)}`)))] : null);
  });
}

/// Reports → Statistics: call volume and minutes over the last 7 days to a year.
export function statistics(ctx) {
  return guarded('Statistics', async () => {
    const [tenant, picker] = await tenantPicker(ctx, '#/statistics');
    const span = [7, 30, 90, 365].includes(Number(ctx.query.days)) ? Number(ctx.query.days) : 30;
    const today = new Date();
    const iso = (d) => `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
    const from = new Date(today.getFullYear(), today.getMonth(), today.getDate() - (span - 1));
    const u = await get(withTenant(`/usage?from=${iso(from)}&to=${iso(today)}`, tenant));
    const rows = bucket(u.days, ['calls', 'answered', 'minutes']);
    const choose = h('select', { id: 'span', onchange: (e) => {
      const q = new URLSearchParams({ days: e.target.value });
      if (tenant) q.set('tenant_id', tenant);
      location.hash = `#/statistics?${q}`;
    } }, [[7, 'Last 7 days'], [30, 'Last 30 days'], [90, 'Last 90 days'], [365, 'Last 12 months']].map(([d, t]) => h('option', { value: d, selected: d === span }, t)));
    const t = u.total;
    return page('Statistics', picker, h('div', { class: 'toolbar' }, h('label', { for: 'span' }, 'Period'), choose),
      h('div', { class: 'cards', 'aria-label': 'Period totals' },
        [['Calls', t.calls], ['Answered', t.answered], ['Answer rate', t.calls ? `${Math.round((100 * t.answered) / t.calls)}%` : '—'], ['Minutes', t.minutes]].map(stat)),
      bars('Call volume', rows, [['calls', 'Calls', 'bar'], ['answered', 'Answered', 'bar2']]),
      bars('Minutes', rows, [['minutes', 'Minutes', 'bar']]));
  });
}
