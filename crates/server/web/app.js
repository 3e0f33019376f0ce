// yrd-ets web interface: a client-side router over the JSON API under /v1.
// No framework, no build step, nothing loaded from elsewhere. Money is handled as integers in
// minor units (fen): parsed from decimal strings and formatted without floating point.
'use strict';

(function () {
  const SVG_NS = 'http://www.w3.org/2000/svg';
  const MINOR = 100; // minor units per major unit (CNY fen); replaced from /v1/transparency
  const state = {
    lang: 'en',
    session: null,
    minor: MINOR,
    currency: 'CNY',
    jurisdictions: null,
    stream: null,
    cleanup: [],
  };

  // ---------- language ----------
  function pickLanguage() {
    const q = new URLSearchParams(location.search).get('lang');
    if (q === 'zh' || q === 'en') {
      try { localStorage.setItem('lang', q); } catch (e) { /* private mode */ }
      return q;
    }
    let stored = null;
    try { stored = localStorage.getItem('lang'); } catch (e) { /* private mode */ }
    if (stored === 'zh' || stored === 'en') return stored;
    return (navigator.language || 'en').toLowerCase().startsWith('zh') ? 'zh' : 'en';
  }

  function t(key, vars) {
    const dict = window.I18N[state.lang] || window.I18N.en;
    let s = dict[key];
    if (s === undefined) s = window.I18N.en[key];
    if (s === undefined) s = key;
    if (vars) {
      for (const k of Object.keys(vars)) s = s.split('{' + k + '}').join(String(vars[k]));
    }
    return s;
  }

  function applyStaticLabels() {
    document.documentElement.lang = state.lang === 'zh' ? 'zh-CN' : 'en';
    for (const el of document.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
    document.getElementById('lang-select').value = state.lang;
  }

  // ---------- DOM helpers (text only: nothing from the API is parsed as HTML) ----------
  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    setAttrs(el, attrs);
    append(el, children);
    return el;
  }
  function s(tag, attrs, ...children) {
    const el = document.createElementNS(SVG_NS, tag);
    setAttrs(el, attrs);
    append(el, children);
    return el;
  }
  function setAttrs(el, attrs) {
    if (!attrs) return;
    for (const [k, v] of Object.entries(attrs)) {
      if (v === null || v === undefined || v === false) continue;
      if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
      else if (k === 'text') el.textContent = v;
      else el.setAttribute(k, v === true ? '' : String(v));
    }
  }
  function append(el, children) {
    for (const c of children.flat()) {
      if (c === null || c === undefined || c === false) continue;
      el.appendChild(c instanceof Node ? c : document.createTextNode(String(c)));
    }
  }
  function table(caption, headers, rows, attrs) {
    return h('table', attrs,
      caption ? h('caption', null, caption) : null,
      h('thead', null, h('tr', null, headers.map((x) =>
        h('th', { scope: 'col', class: x.num ? 'num' : null }, x.label || x)))),
      h('tbody', null, rows.length ? rows : h('tr', null,
        h('td', { colspan: headers.length, class: 'empty' }, t('none')))));
  }
  function td(v, num) { return h('td', { class: num ? 'num' : null }, v); }
  function num(label) { return { label, num: true }; }

  // ---------- formatting (integers only) ----------
  function group(digits) {
    return digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  }
  function fmtInt(n) {
    if (n === null || n === undefined) return '–';
    const neg = n < 0;
    return (neg ? '-' : '') + group(String(Math.abs(n)));
  }
  function fmtMoney(minor) {
    if (minor === null || minor === undefined) return '–';
    const neg = minor < 0;
    const abs = Math.abs(minor);
    const places = String(state.minor).length - 1;
    const whole = Math.trunc(abs / state.minor);
    const frac = abs - whole * state.minor;
    const fracText = places > 0 ? '.' + String(frac).padStart(places, '0') : '';
    return (neg ? '-' : '') + group(String(whole)) + fracText;
  }
  // Parses a decimal string ("81", "81.5", "81.05") into minor units, or returns null.
  function parseMoney(text) {
    const places = String(state.minor).length - 1;
    const m = /^\s*(\d{1,13})(?:\.(\d*))?\s*$/.exec(text || '');
    if (!m) return null;
    const frac = m[2] || '';
    if (frac.length > places) return null;
    const minor = Number(m[1]) * state.minor + (frac ? Number(frac.padEnd(places, '0')) : 0);
    return Number.isSafeInteger(minor) ? minor : null;
  }
  function parseQuantity(text) {
    if (!/^\s*\d{1,15}\s*$/.test(text || '')) return null;
    const q = Number(text);
    return q > 0 && Number.isSafeInteger(q) ? q : null;
  }
  function pad(n) { return String(n).padStart(2, '0'); }
  function jurisdictionName(code) {
    const j = (state.jurisdictions || []).find((x) => x.code === code);
    if (j) return state.lang === 'zh' && j.name_local ? j.name_local : j.name;
    const known = t('j.' + code);
    return known === 'j.' + code ? code : known;
  }
  function statusLabel(code) {
    if (code === null || code === undefined || code === 'none') return t('status.none');
    return code + ' · ' + t('status.' + code);
  }
  function classLink(cls) {
    return h('a', { href: '/market/' + cls }, cls);
  }

  // ---------- API ----------
  async function api(method, path, body, headers) {
    const opts = { method, credentials: 'same-origin', headers: Object.assign({ Accept: 'application/json' }, headers || {}) };
    if (body !== undefined) {
      opts.headers['Content-Type'] = 'application/json';
      opts.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(path, opts);
    } catch (e) {
      return { ok: false, status: 0, body: { error: { code: 'NETWORK', message: t('err.network'), field: null } } };
    }
    let data = null;
    const type = response.headers.get('Content-Type') || '';
    if (type.startsWith('application/json')) {
      try { data = await response.json(); } catch (e) { data = null; }
    }
    return { ok: response.ok, status: response.status, body: data };
  }
  const get = (path) => api('GET', path);
  function errorText(r) {
    const e = r.body && r.body.error;
    if (!e) return t('err.http', { status: r.status });
    return e.message + ' [' + e.code + (e.field ? ', ' + e.field : '') + ']';
  }
  function errorBlock(r) {
    const e = r.body && r.body.error;
    return h('div', { class: 'error', role: 'alert', 'data-testid': 'error-message' },
      h('p', null, errorText(r)),
      e && e.violations && e.violations.length > 1
        ? h('ul', null, e.violations.map((v) => h('li', null, v.code + ' (' + v.field + '): ' + v.message)))
        : null);
  }

  // A registry transaction: POST /v1/transactions with a fresh Idempotency-Key. The business
  // date and the order time are left out: the server stamps them from the registry's clock
  // (and the user and time of the security commands), never the browser's. A 403
  // SECOND_FACTOR_REQUIRED opens the one-time-password dialog and, once it succeeds, retries
  // with the same key (the refused attempt stored nothing).
  async function submitCommand(command) {
    const key = (crypto.randomUUID ? crypto.randomUUID() : fallbackUuid());
    const body = { command };
    for (;;) {
      const r = await api('POST', '/v1/transactions', body, { 'Idempotency-Key': key });
      if (r.status === 403 && r.body && r.body.error && r.body.error.code === 'SECOND_FACTOR_REQUIRED') {
        const done = await secondFactor();
        if (done) continue;
      }
      return r;
    }
  }
  function fallbackUuid() {
    const b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
    const x = Array.from(b, (v) => v.toString(16).padStart(2, '0')).join('');
    return x.slice(0, 8) + '-' + x.slice(8, 12) + '-' + x.slice(12, 16) + '-' + x.slice(16, 20) + '-' + x.slice(20);
  }

  // The one-time-password dialog: resolves true once POST /v1/session/second-factor succeeded.
  function secondFactor() {
    const dialog = document.getElementById('otp-dialog');
    const form = document.getElementById('otp-form');
    const input = document.getElementById('otp-code');
    const error = document.getElementById('otp-error');
    const cancel = document.getElementById('otp-cancel');
    input.value = '';
    error.textContent = '';
    return new Promise((resolve) => {
      const finish = (ok) => {
        form.removeEventListener('submit', onSubmit);
        cancel.removeEventListener('click', onCancel);
        dialog.removeEventListener('cancel', onCancel);
        if (dialog.open) dialog.close();
        resolve(ok);
      };
      const onCancel = (ev) => { ev.preventDefault(); finish(false); };
      const onSubmit = async (ev) => {
        ev.preventDefault();
        const r = await api('POST', '/v1/session/second-factor', { code: input.value.trim() });
        if (r.ok) {
          setSession(r.body);
          finish(true);
        } else {
          error.textContent = r.body && r.body.error && r.body.error.code === 'WRONG_ONE_TIME_PASSWORD'
            ? t('otp.wrong') : errorText(r);
          input.select();
        }
      };
      form.addEventListener('submit', onSubmit);
      cancel.addEventListener('click', onCancel);
      dialog.addEventListener('cancel', onCancel);
      if (typeof dialog.showModal === 'function') dialog.showModal(); else dialog.setAttribute('open', '');
      input.focus();
    });
  }

  function receiptBlock(r) {
    const b = r.body;
    return h('div', { class: 'ok', role: 'status', 'data-testid': 'receipt' },
      h('p', null, t(b.duplicate ? 'receipt.duplicate' : 'receipt.accepted', { tx: b.tx_id, seq: b.seq })),
      h('ul', null, (b.effects || []).map((e) => h('li', null, describeEffect(e)))));
  }
  function describeEffect(e) {
    const parts = [t('effect.' + e.effect) !== 'effect.' + e.effect ? t('effect.' + e.effect) : e.effect];
    if (e.quantity !== undefined) parts.push(fmtInt(e.quantity));
    if (e.price_minor !== undefined) parts.push('@ ' + fmtMoney(e.price_minor));
    if (e.order !== undefined) parts.push(String(e.order));
    if (e.transfer !== undefined) parts.push(String(e.transfer));
    return parts.join(' ');
  }

  // ---------- session ----------
  async function loadSession() {
    const r = await get('/v1/session');
    setSession(r.ok ? r.body : null);
  }
  function setSession(session) {
    state.session = session && session.username ? session : null;
    renderSession();
  }
  function renderSession() {
    const box = document.getElementById('session');
    box.replaceChildren();
    const nav = document.getElementById('nav');
    for (const a of nav.querySelectorAll('a.account-link')) a.remove();
    if (!state.session) {
      box.appendChild(h('a', { href: '/sign-in', 'data-testid': 'sign-in-link' }, t('nav.signin')));
      return;
    }
    for (const id of state.session.accounts || []) {
      nav.appendChild(h('a', { href: '/accounts/' + encodeURIComponent(id), class: 'account-link' }, id));
    }
    box.append(
      h('span', { 'data-testid': 'signed-in-user' }, t('session.as', { user: state.session.username })),
      ' ',
      h('button', { type: 'button', class: 'link', 'data-testid': 'sign-out', onclick: signOut }, t('session.signout')));
  }
  async function signOut() {
    const r = await api('DELETE', '/v1/session');
    if (r.ok || r.status === 401 || r.status === 204) {
      setSession(null);
      navigate('/sign-in');
      flash(t('session.signedout'));
    } else {
      flash(errorText(r), true);
    }
  }

  function flash(message, isError) {
    const el = document.getElementById('status');
    el.textContent = message;
    el.className = 'status ' + (isError ? 'bad' : 'good');
  }

  // ---------- routing ----------
  const routes = [
    [/^\/$/, pageOverview],
    [/^\/market\/(.+)$/, pageMarket],
    [/^\/accounts\/([^/]+)$/, pageAccount],
    [/^\/approvals$/, pageApprovals],
    [/^\/compliance$/, pageCompliance],
    [/^\/auctions$/, pageAuctions],
    [/^\/auctions\/(.+)$/, pageAuction],
    [/^\/transparency$/, pageTransparency],
    [/^\/sign-in$/, pageSignIn],
  ];
  function navigate(path) {
    history.pushState(null, '', path);
    render();
  }
  async function render() {
    for (const f of state.cleanup.splice(0)) f();
    const main = document.getElementById('main');
    const path = location.pathname;
    for (const a of document.querySelectorAll('#nav a')) {
      const href = a.getAttribute('href');
      const current = href === '/' ? (path === '/' || path.startsWith('/market/')) : path.startsWith(href);
      if (current) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
    }
    for (const [re, page] of routes) {
      const m = re.exec(path);
      if (m) {
        const args = m.slice(1).map((x) => decodeURIComponent(x));
        main.replaceChildren(h('p', null, t('loading')));
        try {
          await page(main, ...args);
        } catch (e) {
          main.replaceChildren(h('p', { class: 'error', role: 'alert' }, t('err.page') + ' ' + e.message));
        }
        return;
      }
    }
    main.replaceChildren(h('h1', null, t('notfound')));
  }
  document.addEventListener('click', (ev) => {
    const a = ev.target.closest('a');
    if (!a || ev.defaultPrevented || ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey || ev.altKey) return;
    const url = new URL(a.href, location.href);
    if (url.origin !== location.origin || url.pathname.startsWith('/v1/') || a.target) return;
    if (url.hash && url.pathname === location.pathname) return;
    ev.preventDefault();
    if (url.pathname + url.search !== location.pathname + location.search) navigate(url.pathname + url.search);
    document.getElementById('main').focus();
  });
  window.addEventListener('popstate', render);

  // ---------- live market data ----------
  // `?live=0` turns live updates off (a static page: printing, headless screenshots).
  function subscribe(handlers) {
    if (!window.EventSource || new URLSearchParams(location.search).get('live') === '0') return;
    const es = new EventSource('/v1/market/stream', { withCredentials: true });
    for (const [name, fn] of Object.entries(handlers)) {
      es.addEventListener(name, (ev) => {
        try { fn(JSON.parse(ev.data)); } catch (e) { /* a malformed event is skipped */ }
      });
    }
    state.cleanup.push(() => es.close());
  }

  // ---------- charts ----------
  function priceChart(days) {
    const W = 640, H = 260, L = 64, R = 12, T = 12, B = 28;
    const priceH = 150, gap = 14, volH = H - T - B - priceH - gap;
    const root = s('svg', { viewBox: '0 0 ' + W + ' ' + H, class: 'chart', role: 'img',
      'aria-label': t('chart.price.label'), 'data-testid': 'price-chart' });
    root.appendChild(s('title', null, t('chart.price.label')));
    if (!days.length) {
      root.appendChild(s('text', { x: W / 2, y: H / 2, 'text-anchor': 'middle', class: 'muted' }, t('chart.nodata')));
      return root;
    }
    const closes = days.map((d) => d.close);
    let lo = Math.min(...days.map((d) => d.low)), hi = Math.max(...days.map((d) => d.high));
    if (hi === lo) { hi += state.minor; lo = Math.max(0, lo - state.minor); }
    const maxVol = Math.max(...days.map((d) => d.volume), 1);
    const n = days.length;
    const step = (W - L - R) / n;
    const x = (i) => L + step * (i + 0.5);
    const y = (p) => T + priceH - ((p - lo) / (hi - lo)) * priceH;
    // grid and price axis
    for (const p of [lo, (lo + hi) / 2, hi]) {
      const py = y(p);
      root.appendChild(s('line', { x1: L, x2: W - R, y1: py, y2: py, class: 'grid' }));
      root.appendChild(s('text', { x: L - 6, y: py + 4, 'text-anchor': 'end', class: 'axis' }, fmtMoney(Math.round(p))));
    }
    // high-low ranges
    days.forEach((d, i) => {
      root.appendChild(s('line', { x1: x(i), x2: x(i), y1: y(d.high), y2: y(d.low), class: 'range' }));
    });
    // close line
    root.appendChild(s('polyline', { points: closes.map((c, i) => x(i).toFixed(1) + ',' + y(c).toFixed(1)).join(' '), class: 'close-line' }));
    days.forEach((d, i) => {
      const dot = s('circle', { cx: x(i), cy: y(d.close), r: n > 60 ? 1.5 : 3, class: d.closed ? 'close-dot' : 'close-dot provisional' });
      dot.appendChild(s('title', null, d.date + ' ' + t('close') + ' ' + fmtMoney(d.close) + ' · ' + t('volume') + ' ' + fmtInt(d.volume)));
      root.appendChild(dot);
    });
    // volume bars
    const vTop = T + priceH + gap;
    days.forEach((d, i) => {
      const bh = (d.volume / maxVol) * volH;
      const bar = s('rect', { x: x(i) - Math.max(1, step * 0.35), y: vTop + volH - bh, width: Math.max(2, step * 0.7), height: Math.max(0.5, bh), class: 'vol-bar' });
      bar.appendChild(s('title', null, d.date + ' ' + t('volume') + ' ' + fmtInt(d.volume)));
      root.appendChild(bar);
    });
    root.appendChild(s('text', { x: L - 6, y: vTop + 10, 'text-anchor': 'end', class: 'axis' }, fmtInt(maxVol)));
    root.appendChild(s('text', { x: L, y: H - 8, class: 'axis' }, days[0].date));
    root.appendChild(s('text', { x: W - R, y: H - 8, 'text-anchor': 'end', class: 'axis' }, days[n - 1].date));
    return root;
  }

  function depthChart(book) {
    const W = 640, H = 220, L = 64, R = 12, T = 12, B = 28;
    const root = s('svg', { viewBox: '0 0 ' + W + ' ' + H, class: 'chart', role: 'img',
      'aria-label': t('chart.depth.label'), 'data-testid': 'depth-chart' });
    root.appendChild(s('title', null, t('chart.depth.label')));
    const bids = book.bids, asks = book.asks;
    if (!bids.length && !asks.length) {
      root.appendChild(s('text', { x: W / 2, y: H / 2, 'text-anchor': 'middle', class: 'muted' }, t('book.empty')));
      return root;
    }
    const cum = (levels) => { let c = 0; return levels.map((l) => ({ price: l.price, c: (c += l.volume) })); };
    const cb = cum(bids), ca = cum(asks);
    const prices = bids.concat(asks).map((l) => l.price);
    let lo = Math.min(...prices), hi = Math.max(...prices);
    if (hi === lo) { hi += state.minor; lo -= state.minor; }
    const maxC = Math.max(cb.length ? cb[cb.length - 1].c : 0, ca.length ? ca[ca.length - 1].c : 0, 1);
    const x = (p) => L + ((p - lo) / (hi - lo)) * (W - L - R);
    const y = (c) => T + (H - T - B) - (c / maxC) * (H - T - B);
    const base = y(0);
    const area = (pts, cls) => {
      if (!pts.length) return;
      let d = 'M' + x(pts[0].price).toFixed(1) + ',' + base.toFixed(1);
      pts.forEach((p, i) => {
        d += ' L' + x(p.price).toFixed(1) + ',' + y(p.c).toFixed(1);
        const next = pts[i + 1];
        if (next) d += ' L' + x(next.price).toFixed(1) + ',' + y(p.c).toFixed(1);
      });
      d += ' L' + x(pts[pts.length - 1].price).toFixed(1) + ',' + base.toFixed(1) + ' Z';
      root.appendChild(s('path', { d, class: cls }));
    };
    area(cb, 'depth-bid');
    area(ca, 'depth-ask');
    root.appendChild(s('line', { x1: L, x2: W - R, y1: base, y2: base, class: 'grid' }));
    root.appendChild(s('text', { x: L - 6, y: y(maxC) + 4, 'text-anchor': 'end', class: 'axis' }, fmtInt(maxC)));
    root.appendChild(s('text', { x: L, y: H - 8, class: 'axis' }, fmtMoney(lo)));
    root.appendChild(s('text', { x: W - R, y: H - 8, 'text-anchor': 'end', class: 'axis' }, fmtMoney(hi)));
    return root;
  }

  // Four jurisdictions in their geographic arrangement (Jiangsu north, Shanghai east, Zhejiang
  // south, Anhui west), any other list on a circle; arrows from net exporter to net importer,
  // their width proportional to the net balance.
  const LAYOUT = { 'CN-JS': [320, 80], 'CN-SH': [520, 200], 'CN-ZJ': [320, 320], 'CN-AH': [120, 200] };
  function flowDiagram(jurisdictions, pairs, unitType) {
    const W = 640, H = 400, RX = 70, RY = 34;
    const root = s('svg', { viewBox: '0 0 ' + W + ' ' + H, class: 'chart diagram', role: 'img',
      'aria-label': t('flows.label', { unit: unitType || '' }), 'data-testid': 'flow-diagram' });
    root.appendChild(s('title', null, t('flows.label', { unit: unitType || '' })));
    const defs = s('defs', null, s('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: 8, refY: 5,
      markerWidth: 3, markerHeight: 3, orient: 'auto-start-reverse' }, s('path', { d: 'M0,0 L10,5 L0,10 z', class: 'arrow-head' })));
    root.appendChild(defs);
    const codes = jurisdictions.map((j) => j.code);
    const geographic = codes.length > 0 && codes.every((c) => LAYOUT[c]);
    const pos = {};
    codes.forEach((c, i) => {
      if (geographic) pos[c] = LAYOUT[c];
      else {
        const a = -Math.PI / 2 + (2 * Math.PI * i) / Math.max(codes.length, 1);
        pos[c] = [W / 2 + 220 * Math.cos(a), H / 2 + 140 * Math.sin(a)];
      }
    });
    const relevant = pairs.filter((p) => p.unit_type === unitType && p.net !== 0 && pos[p.first] && pos[p.second]);
    const maxNet = Math.max(...relevant.map((p) => Math.abs(p.net)), 1);
    for (const p of relevant) {
      const [from, to] = p.net > 0 ? [p.first, p.second] : [p.second, p.first];
      const [x1, y1] = pos[from], [x2, y2] = pos[to];
      const dx = x2 - x1, dy = y2 - y1, len = Math.hypot(dx, dy) || 1;
      // leave the ellipses: shorten by their radius along the direction
      const cut = (ux, uy) => 1 / Math.sqrt((ux * ux) / (RX * RX) + (uy * uy) / (RY * RY));
      const ux = dx / len, uy = dy / len, c = cut(ux, uy) + 6;
      // offset sideways so that two opposite flows would not overlap
      const ox = -uy * 8, oy = ux * 8;
      const width = 2 + 12 * (Math.abs(p.net) / maxNet);
      const line = s('line', { x1: x1 + ux * c + ox, y1: y1 + uy * c + oy, x2: x2 - ux * c + ox, y2: y2 - uy * c + oy,
        'stroke-width': width.toFixed(1), class: 'flow', 'marker-end': 'url(#arrow)' });
      const label = t('flows.arrow', { from: jurisdictionName(from), to: jurisdictionName(to), q: fmtInt(Math.abs(p.net)), unit: p.unit_type });
      line.appendChild(s('title', null, label));
      root.appendChild(line);
      root.appendChild(s('text', { x: x1 + dx * 0.38 + ox * 2.4, y: y1 + dy * 0.38 + oy * 2.4 + 4, 'text-anchor': 'middle', class: 'flow-label' }, fmtInt(Math.abs(p.net))));
    }
    for (const c of codes) {
      const [cx, cy] = pos[c];
      const g = s('g', { class: 'region' });
      g.appendChild(s('ellipse', { cx, cy, rx: RX, ry: RY }));
      g.appendChild(s('text', { x: cx, y: cy - 2, 'text-anchor': 'middle', class: 'region-name' }, jurisdictionName(c)));
      g.appendChild(s('text', { x: cx, y: cy + 15, 'text-anchor': 'middle', class: 'region-code' }, c));
      root.appendChild(g);
    }
    if (!relevant.length) {
      root.appendChild(s('text', { x: W / 2, y: H - 10, 'text-anchor': 'middle', class: 'muted' }, t('flows.none')));
    }
    return root;
  }

  async function loadJurisdictions() {
    if (state.jurisdictions) return state.jurisdictions;
    const r = await get('/v1/transparency');
    if (r.ok) {
      state.jurisdictions = r.body.jurisdictions;
      state.minor = r.body.currency_minor_per_major || MINOR;
      state.currency = r.body.currency || 'CNY';
      return state.jurisdictions;
    }
    return [];
  }

  function flowsSection(jurisdictions, pairs) {
    const types = [...new Set(pairs.map((p) => p.unit_type))].sort();
    const wrap = h('div', { class: 'flows' });
    if (!types.length) {
      wrap.appendChild(flowDiagram(jurisdictions, [], ''));
      return wrap;
    }
    let unit = types.includes('CEA') ? 'CEA' : types[0];
    const select = h('select', { id: 'flow-unit', 'data-testid': 'flow-unit' }, types.map((u) => h('option', { value: u }, u)));
    select.value = unit;
    const holder = h('div', null, flowDiagram(jurisdictions, pairs, unit));
    select.addEventListener('change', () => { unit = select.value; holder.replaceChildren(flowDiagram(jurisdictions, pairs, unit)); });
    wrap.append(h('p', { class: 'field-inline' }, h('label', { for: 'flow-unit' }, t('flows.unit')), ' ', select), holder);
    return wrap;
  }

  // ---------- pages ----------
  function instrumentRow(i) {
    const change = i.last !== null && i.last !== undefined ? i.last - i.previous_close : null;
    return h('tr', { 'data-class': i.class },
      h('th', { scope: 'row' }, classLink(i.class), i.halted ? h('span', { class: 'tag bad' }, ' ' + t('halted')) : null),
      td(fmtMoney(i.last), true),
      td(change === null ? '–' : (change > 0 ? '+' : '') + fmtMoney(change), true),
      td(i.best_bid ? fmtMoney(i.best_bid.price) + ' × ' + fmtInt(i.best_bid.volume) : '–', true),
      td(i.best_ask ? fmtMoney(i.best_ask.price) + ' × ' + fmtInt(i.best_ask.volume) : '–', true),
      td(fmtInt(i.volume), true),
      td(fmtMoney(i.vwap), true),
      td(fmtMoney(i.previous_close), true));
  }
  function summaryTable(instruments) {
    return table(null, [t('instrument'), num(t('last')), num(t('change')), num(t('bid')), num(t('ask')),
      num(t('volume')), num(t('vwap')), num(t('prevclose'))], instruments.map(instrumentRow),
    { class: 'data', 'data-testid': 'market-summary' });
  }

  async function pageOverview(main) {
    const [summary, flows, jurisdictions] = await Promise.all([get('/v1/market/summary'), get('/v1/net-flows'), loadJurisdictions()]);
    main.replaceChildren(h('h1', null, t('overview.title')));
    if (!summary.ok) { main.appendChild(errorBlock(summary)); return; }
    const instruments = summary.body.instruments;
    main.appendChild(h('p', { class: 'muted' }, t('tradingdate', { date: summary.body.trading_date || '–' })));
    let tableEl = summaryTable(instruments);
    const marketSection = h('section', { 'aria-labelledby': 'h-instruments' }, h('h2', { id: 'h-instruments' }, t('instruments')), tableEl);
    main.appendChild(marketSection);
    const featured = instruments.slice().sort((a, b) => b.trades - a.trades || b.volume - a.volume)[0];
    const grid = h('div', { class: 'grid2' });
    main.appendChild(grid);
    const detail = h('section', { 'aria-labelledby': 'h-featured' });
    grid.appendChild(detail);
    const flowSection = h('section', { 'aria-labelledby': 'h-flows' }, h('h2', { id: 'h-flows' }, t('flows.title')));
    grid.appendChild(flowSection);
    if (flows.ok) flowSection.appendChild(flowsSection(jurisdictions, flows.body.pairs));
    else flowSection.appendChild(errorBlock(flows));
    if (featured) {
      detail.appendChild(h('h2', { id: 'h-featured' }, classLink(featured.class)));
      await instrumentDetail(detail, featured.class, true);
    } else {
      detail.appendChild(h('h2', { id: 'h-featured' }, t('instruments')));
      detail.appendChild(h('p', null, t('market.none')));
    }
    const refresh = debounce(async () => {
      const r = await get('/v1/market/summary');
      if (r.ok) { const fresh = summaryTable(r.body.instruments); tableEl.replaceWith(fresh); tableEl = fresh; }
    }, 300);
    subscribe({ quote: refresh, trade: refresh, lagged: refresh });
  }

  function debounce(fn, ms) {
    let timer = null;
    const d = () => { clearTimeout(timer); timer = setTimeout(fn, ms); };
    state.cleanup.push(() => clearTimeout(timer));
    return d;
  }

  // Chart, depth and recent trades of one instrument; live when `live`.
  async function instrumentDetail(container, cls, compact) {
    const enc = encodeURIComponent(cls);
    const [hist, book, trades] = await Promise.all([
      get('/v1/market/' + enc + '/history'), get('/v1/market/' + enc + '/book?depth=10'), get('/v1/market/' + enc + '/trades?limit=20')]);
    if (!hist.ok) { container.appendChild(errorBlock(hist)); return; }
    container.appendChild(h('h3', null, t('chart.price.title')));
    container.appendChild(priceChart(hist.body.days));
    if (hist.body.truncated) container.appendChild(h('p', { class: 'muted' }, t('history.truncated')));
    const bookBox = h('div');
    const tradesBox = h('div');
    const grid = h('div', { class: compact ? null : 'grid2' },
      h('div', null, h('h3', null, t('book.title')), bookBox),
      h('div', null, h('h3', null, t('trades.title')), tradesBox));
    container.appendChild(grid);
    const drawBook = (b) => {
      const ladder = [];
      const asks = b.asks.slice().reverse();
      for (const l of asks) ladder.push(h('tr', { class: 'ask' }, td(''), td('', true), th(fmtMoney(l.price)), td(fmtInt(l.volume), true), td(fmtInt(l.orders), true)));
      for (const l of b.bids) ladder.push(h('tr', { class: 'bid' }, td(fmtInt(l.orders), true), td(fmtInt(l.volume), true), th(fmtMoney(l.price)), td('', true), td('')));
      bookBox.replaceChildren(depthChart(b), table(null, [num(t('orders')), num(t('bidvol')), num(t('price')), num(t('askvol')), num(t('orders'))], ladder, { class: 'data ladder', 'data-testid': 'book-ladder' }));
    };
    const drawTrades = (list) => {
      tradesBox.replaceChildren(table(null, [t('date'), t('time'), num(t('price')), num(t('quantity')), t('aggressor')],
        list.map((x) => h('tr', null, td(x.date), td(x.time), td(fmtMoney(x.price), true), td(fmtInt(x.quantity), true), td(t('side.' + x.aggressor)))),
        { class: 'data', 'data-testid': 'recent-trades' }));
    };
    if (book.ok) drawBook(book.body); else bookBox.appendChild(errorBlock(book));
    if (trades.ok) drawTrades(trades.body.trades); else tradesBox.appendChild(errorBlock(trades));
    const refresh = debounce(async () => {
      const [b, tr] = await Promise.all([get('/v1/market/' + enc + '/book?depth=10'), get('/v1/market/' + enc + '/trades?limit=20')]);
      if (b.ok) drawBook(b.body);
      if (tr.ok) drawTrades(tr.body.trades);
    }, 250);
    const mine = (ev) => { if (ev.class === cls) refresh(); };
    subscribe({ quote: mine, trade: mine, lagged: refresh });
  }
  function th(v) { return h('th', { scope: 'row', class: 'num' }, v); }

  async function pageMarket(main, cls) {
    const summary = await get('/v1/market/summary');
    main.replaceChildren(h('p', null, h('a', { href: '/' }, '← ' + t('overview.title'))), h('h1', null, cls));
    if (summary.ok) {
      const i = summary.body.instruments.find((x) => x.class === cls);
      if (i) {
        main.appendChild(h('dl', { class: 'stats' },
          stat(t('last'), fmtMoney(i.last)), stat(t('open'), fmtMoney(i.open)), stat(t('high'), fmtMoney(i.high)),
          stat(t('low'), fmtMoney(i.low)), stat(t('volume'), fmtInt(i.volume)), stat(t('turnover'), fmtMoney(i.turnover)),
          stat(t('vwap'), fmtMoney(i.vwap)), stat(t('prevclose'), fmtMoney(i.previous_close))));
      }
    }
    await instrumentDetail(main, cls, false);
  }
  function stat(label, value) { return h('div', null, h('dt', null, label), h('dd', null, value)); }

  async function pageAccount(main, id) {
    const enc = encodeURIComponent(id);
    const [holdings, cash, orders, summary] = await Promise.all([
      get('/v1/accounts/' + enc + '/holdings'), get('/v1/accounts/' + enc + '/cash'), get('/v1/accounts/' + enc + '/orders'), get('/v1/market/summary')]);
    main.replaceChildren(h('h1', null, t('account.title', { id })));
    if (!holdings.ok) { main.appendChild(errorBlock(holdings)); return; }
    const grid = h('div', { class: 'grid2' });
    main.appendChild(grid);
    grid.appendChild(h('section', { 'aria-labelledby': 'h-holdings' }, h('h2', { id: 'h-holdings' }, t('holdings')),
      table(null, [t('class'), num(t('quantity')), t('serials')], holdings.body.holdings.map((x) => h('tr', null,
        h('th', { scope: 'row' }, x.class), td(fmtInt(x.quantity), true),
        td(x.blocks.slice(0, 3).map((b) => b.first + '–' + b.last).join(', ') + (x.blocks.length > 3 ? ' …' : '')))),
      { class: 'data', 'data-testid': 'holdings-table' })));
    const cashSection = h('section', { 'aria-labelledby': 'h-cash' }, h('h2', { id: 'h-cash' }, t('cash.title')));
    if (cash.ok) {
      const c = cash.body;
      cashSection.appendChild(h('dl', { class: 'stats', 'data-testid': 'cash' },
        stat(t('cash.available'), fmtMoney(c.available) + ' ' + c.currency), stat(t('cash.reserved'), fmtMoney(c.reserved)),
        stat(t('cash.pending'), fmtMoney(c.pending.reduce((a, p) => a + p.amount, 0))), stat(t('cash.total'), fmtMoney(c.total))));
    } else cashSection.appendChild(errorBlock(cash));
    grid.appendChild(cashSection);

    // open orders with cancel
    const ordersSection = h('section', { 'aria-labelledby': 'h-orders' }, h('h2', { id: 'h-orders' }, t('orders.open')));
    const ordersStatus = h('div', { role: 'status', 'aria-live': 'polite', 'data-testid': 'orders-status' });
    if (orders.ok) {
      ordersSection.appendChild(table(null, [t('order'), t('class'), t('side'), num(t('price')), num(t('remaining')), t('actions')],
        orders.body.orders.map((o) => h('tr', { 'data-order': o.order }, h('th', { scope: 'row' }, o.order), td(o.class), td(t('side.' + o.side)),
          td(fmtMoney(o.price), true), td(fmtInt(o.remaining), true),
          h('td', null, h('button', { type: 'button', 'data-testid': 'cancel-order', onclick: async () => {
            const r = await submitCommand({ type: 'cancel_order', order: o.order, account: id });
            ordersStatus.replaceChildren(r.ok ? receiptBlock(r) : errorBlock(r));
            if (r.ok) setTimeout(render, 800);
          } }, t('cancel'))))),
        { class: 'data', 'data-testid': 'orders-table' }));
    } else ordersSection.appendChild(errorBlock(orders));
    ordersSection.appendChild(ordersStatus);
    main.appendChild(ordersSection);

    const classes = new Set(holdings.body.holdings.map((x) => x.class));
    if (summary.ok) for (const i of summary.body.instruments) classes.add(i.class);
    const grid2 = h('div', { class: 'grid2' });
    main.appendChild(grid2);
    grid2.appendChild(orderForm(id, [...classes].sort()));
    grid2.appendChild(transferForm(id, holdings.body.holdings.map((x) => x.class)));
    main.appendChild(await transfersSection(id, false));
  }

  function field(id, label, control) {
    return h('div', { class: 'field' }, h('label', { for: id }, label), control);
  }

  function orderForm(account, classes) {
    const status = h('div', { role: 'status', 'aria-live': 'polite', 'data-testid': 'order-status' });
    const cls = h('select', { id: 'order-class', name: 'class', required: true, 'data-testid': 'order-class' }, classes.map((c) => h('option', { value: c }, c)));
    const side = h('select', { id: 'order-side', name: 'side', 'data-testid': 'order-side' },
      h('option', { value: 'buy' }, t('side.buy')), h('option', { value: 'sell' }, t('side.sell')));
    const price = h('input', { id: 'order-price', name: 'price', inputmode: 'decimal', autocomplete: 'off', placeholder: '81.00', 'data-testid': 'order-price', 'aria-describedby': 'order-price-help' });
    const qty = h('input', { id: 'order-quantity', name: 'quantity', inputmode: 'numeric', autocomplete: 'off', required: true, 'data-testid': 'order-quantity' });
    const tif = h('select', { id: 'order-tif', name: 'time_in_force', 'data-testid': 'order-tif' },
      ['gtc', 'day', 'ioc', 'fok', 'market'].map((v) => h('option', { value: v }, t('tif.' + v))));
    tif.addEventListener('change', () => { price.disabled = tif.value === 'market'; });
    const form = h('form', { class: 'card', 'aria-labelledby': 'h-order', novalidate: true, 'data-testid': 'order-form' },
      h('h2', { id: 'h-order' }, t('order.new')),
      field('order-class', t('instrument'), cls), field('order-side', t('side'), side),
      field('order-price', t('order.price', { cur: state.currency }), price),
      h('p', { id: 'order-price-help', class: 'help' }, t('order.price.help')),
      field('order-quantity', t('quantity'), qty), field('order-tif', t('tif'), tif),
      h('button', { type: 'submit', 'data-testid': 'order-submit' }, t('order.submit')), status);
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const q = parseQuantity(qty.value);
      if (q === null) { status.replaceChildren(h('p', { class: 'error', role: 'alert' }, t('err.quantity'))); qty.focus(); return; }
      const command = { type: 'place_order', order: 'W-' + Date.now().toString(36).toUpperCase() + '-' + Math.floor(Math.random() * 1296).toString(36).toUpperCase(),
        account, class: cls.value, side: side.value, quantity: q, time_in_force: tif.value };
      if (tif.value !== 'market') {
        const p = parseMoney(price.value);
        if (p === null || p <= 0) { status.replaceChildren(h('p', { class: 'error', role: 'alert' }, t('err.price'))); price.focus(); return; }
        command.price_minor = p;
      }
      const button = form.querySelector('button[type=submit]');
      button.disabled = true;
      const r = await submitCommand(command);
      button.disabled = false;
      status.replaceChildren(r.ok ? receiptBlock(r) : errorBlock(r));
    });
    return form;
  }

  function transferForm(account, classes) {
    const status = h('div', { role: 'status', 'aria-live': 'polite', 'data-testid': 'transfer-status' });
    const to = h('input', { id: 'transfer-to', name: 'to', autocomplete: 'off', required: true, 'data-testid': 'transfer-to' });
    const cls = h('select', { id: 'transfer-class', name: 'class', 'data-testid': 'transfer-class' }, classes.map((c) => h('option', { value: c }, c)));
    const qty = h('input', { id: 'transfer-quantity', name: 'quantity', inputmode: 'numeric', required: true, 'data-testid': 'transfer-quantity' });
    const form = h('form', { class: 'card', 'aria-labelledby': 'h-transfer', novalidate: true, 'data-testid': 'transfer-form' },
      h('h2', { id: 'h-transfer' }, t('transfer.new')),
      field('transfer-to', t('transfer.to'), to), field('transfer-class', t('class'), cls), field('transfer-quantity', t('quantity'), qty),
      h('button', { type: 'submit', 'data-testid': 'transfer-submit' }, t('transfer.submit')), status);
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const q = parseQuantity(qty.value);
      if (q === null) { status.replaceChildren(h('p', { class: 'error', role: 'alert' }, t('err.quantity'))); return; }
      if (!to.value.trim()) { status.replaceChildren(h('p', { class: 'error', role: 'alert' }, t('err.to'))); return; }
      const r = await submitCommand({ type: 'propose_transfer', transfer: 'WT-' + (crypto.randomUUID ? crypto.randomUUID() : fallbackUuid()),
        from: account, to: to.value.trim(), class: cls.value, quantity: q });
      status.replaceChildren(r.ok ? receiptBlock(r) : errorBlock(r));
    });
    return form;
  }

  // Pending transfers of `account` (GET /v1/accounts/{id}/transfers), with Approve and Cancel.
  async function transfersSection(account, withHeading) {
    const section = h('section', { 'aria-label': t('transfers.of', { id: account }) });
    section.appendChild(h(withHeading ? 'h2' : 'h2', null, t('transfers.of', { id: account })));
    const r = await get('/v1/accounts/' + encodeURIComponent(account) + '/transfers');
    if (!r.ok) {
      section.appendChild(r.status === 404 && !(r.body && r.body.error && r.body.error.code !== 'NOT_FOUND')
        ? h('p', { class: 'muted' }, t('transfers.unavailable')) : errorBlock(r));
      return section;
    }
    const pending = r.body.items.filter((x) => x.status === 'awaiting_approval' || x.status === 'scheduled');
    const status = h('div', { role: 'status', 'aria-live': 'polite', 'data-testid': 'approval-status' });
    const act = (command) => async (ev) => {
      ev.target.disabled = true;
      const res = await submitCommand(command);
      status.replaceChildren(res.ok ? receiptBlock(res) : errorBlock(res));
      if (res.ok) { const row = ev.target.closest('tr'); if (row) row.classList.add('done'); }
      else ev.target.disabled = false;
    };
    section.appendChild(table(null, [t('transfer'), t('from'), t('to'), t('class'), num(t('quantity')), t('initiator'), t('proposed'), t('execute_at'), t('status'), t('actions')],
      pending.map((x) => h('tr', { 'data-testid': 'transfer-row', 'data-transfer': x.transfer },
        h('th', { scope: 'row' }, x.transfer), td(x.from), td(x.to), td(x.class), td(fmtInt(x.quantity), true), td(x.initiator || '–'),
        td(x.proposed_at || '–'), td(x.execute_at || '–'), td(t('tstatus.' + x.status)),
        h('td', { class: 'actions' },
          // Four eyes: the initiator is never offered the approval (the server refuses it anyway).
          x.status === 'awaiting_approval' && !(state.session && state.session.username === x.initiator) ? h('button', { type: 'button', 'data-testid': 'approve-transfer', 'data-transfer': x.transfer,
            onclick: act({ type: 'approve_transfer', transfer: x.transfer }) }, t('approve')) : null,
          h('button', { type: 'button', class: 'secondary', 'data-testid': 'cancel-transfer', 'data-transfer': x.transfer,
            onclick: act({ type: 'cancel_transfer', transfer: x.transfer }) }, t('cancel'))))),
      { class: 'data', 'data-testid': 'transfers-table' }));
    section.appendChild(status);
    return section;
  }

  async function pageApprovals(main) {
    main.replaceChildren(h('h1', null, t('approvals.title')));
    if (!state.session) {
      main.appendChild(h('p', null, t('approvals.signin'), ' ', h('a', { href: '/sign-in?next=/approvals' }, t('nav.signin'))));
      return;
    }
    const accounts = state.session.accounts || [];
    if (!accounts.length) { main.appendChild(h('p', null, t('approvals.noaccounts'))); return; }
    for (const a of accounts) main.appendChild(await transfersSection(a, true));
  }

  async function pageCompliance(main) {
    const [summary, jurisdictions] = await Promise.all([get('/v1/compliance/summary'), loadJurisdictions()]);
    main.replaceChildren(h('h1', null, t('compliance.title')));
    if (!summary.ok) { main.appendChild(errorBlock(summary)); return; }
    const params = new URLSearchParams(location.search);
    const years = summary.body.years;
    const year = params.get('year') || (years.length ? String(years.filter((y) => summary.body.items.some((i) => i.year === y && i.pending < i.installations)).pop() || years[years.length - 1]) : '');
    const jur = params.get('jurisdiction') || '';
    const st = params.get('status') || '';
    const page = Math.max(1, Number(params.get('page') || '1') | 0);

    const rows = summary.body.items.filter((i) => !year || String(i.year) === year);
    main.appendChild(h('section', { 'aria-labelledby': 'h-csum' }, h('h2', { id: 'h-csum' }, t('compliance.byjurisdiction', { year: year || t('all') })),
      table(null, [t('jurisdiction'), t('obligation'), num(t('year')), num(t('installations')), num(t('compliant')), num(t('notcompliant')), num(t('pending')),
        num(t('verified')), num(t('surrendered')), num(t('shortfall')), num(t('penalties'))],
      rows.map((i) => h('tr', null, h('th', { scope: 'row' }, jurisdictionName(i.jurisdiction) + ' (' + i.jurisdiction + ')'), td(i.obligation), td(i.year, true),
        td(fmtInt(i.installations), true), td(fmtInt(i.compliant), true), td(fmtInt(i.not_compliant), true), td(fmtInt(i.pending), true),
        td(fmtInt(i.verified), true), td(fmtInt(i.surrendered), true), td(fmtInt(i.shortfall), true), td(fmtMoney(i.penalties), true))),
      { class: 'data', 'data-testid': 'compliance-summary-table' })));

    // filters
    const yearSel = h('select', { id: 'f-year', name: 'year', 'data-testid': 'filter-year' }, h('option', { value: '' }, t('all')), years.map((y) => h('option', { value: y }, y)));
    yearSel.value = year;
    const jurSel = h('select', { id: 'f-jurisdiction', name: 'jurisdiction', 'data-testid': 'filter-jurisdiction' }, h('option', { value: '' }, t('all')),
      jurisdictions.map((j) => h('option', { value: j.code }, jurisdictionName(j.code))));
    jurSel.value = jur;
    const stSel = h('select', { id: 'f-status', name: 'status', 'data-testid': 'filter-status' }, h('option', { value: '' }, t('all')),
      ['A', 'B', 'C', 'D', 'E', 'X', '-', 'none'].map((c) => h('option', { value: c }, statusLabel(c))));
    stSel.value = st;
    const filters = h('form', { class: 'filters', 'aria-label': t('filters'), 'data-testid': 'compliance-filters' },
      field('f-jurisdiction', t('jurisdiction'), jurSel), field('f-year', t('year'), yearSel), field('f-status', t('status'), stSel),
      h('button', { type: 'submit', 'data-testid': 'filter-apply' }, t('apply')));
    filters.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const q = new URLSearchParams();
      if (yearSel.value) q.set('year', yearSel.value);
      if (jurSel.value) q.set('jurisdiction', jurSel.value);
      if (stSel.value) q.set('status', stSel.value);
      navigate('/compliance' + (q.toString() ? '?' + q : ''));
    });
    const query = new URLSearchParams({ page: String(page), per_page: '50' });
    if (year) query.set('year', year);
    if (jur) query.set('jurisdiction', jur);
    if (st) query.set('status', st);
    const r = await get('/v1/compliance?' + query);
    const section = h('section', { 'aria-labelledby': 'h-cinst' }, h('h2', { id: 'h-cinst' }, t('compliance.installations')), filters);
    main.appendChild(section);
    if (!r.ok) { section.appendChild(errorBlock(r)); return; }
    const b = r.body;
    section.appendChild(table(null, [t('installation'), t('name'), t('jurisdiction'), t('sector'), num(t('year')), num(t('allocated')), num(t('verified')), num(t('surrendered')), t('status'), num(t('penalty'))],
      b.items.map((x) => h('tr', null, h('th', { scope: 'row' }, x.installation), td(x.name), td(jurisdictionName(x.jurisdiction)), td(x.sector), td(x.year, true),
        td(fmtInt(x.allocated), true), td(x.verified === null ? '–' : fmtInt(x.verified), true), td(fmtInt(x.surrendered), true),
        td(h('span', { class: 'st st-' + (x.status === '-' ? 'none' : (x.status || 'pending')) }, statusLabel(x.status))), td(fmtMoney(x.penalty), true))),
      { class: 'data', 'data-testid': 'compliance-table' }));
    const link = (p) => { const q = new URLSearchParams(query); q.set('page', String(p)); q.delete('per_page'); return '/compliance?' + q; };
    section.appendChild(h('nav', { class: 'pager', 'aria-label': t('pages') },
      page > 1 ? h('a', { href: link(page - 1), rel: 'prev' }, '← ' + t('prev')) : null,
      h('span', null, t('pageof', { page, pages: Math.max(b.total_pages, 1), total: fmtInt(b.total) })),
      b.next_page ? h('a', { href: link(b.next_page), rel: 'next', 'data-testid': 'next-page' }, t('next') + ' →') : null));
  }

  async function pageAuctions(main) {
    const r = await get('/v1/auctions');
    main.replaceChildren(h('h1', null, t('auctions.title')));
    if (!r.ok) { main.appendChild(errorBlock(r)); return; }
    main.appendChild(table(null, [t('auction'), t('class'), t('closes'), t('status'), num(t('supply')), num(t('reserve')), num(t('clearing')), num(t('sold')), num(t('bidders')), num(t('cover'))],
      r.body.auctions.map((a) => h('tr', null, h('th', { scope: 'row' }, h('a', { href: '/auctions/' + encodeURIComponent(a.auction) }, a.auction)),
        td(a.class), td(a.closes), td(t('astatus.' + a.status)), td(fmtInt(a.supply), true), td(fmtMoney(a.reserve_price_minor), true),
        td(fmtMoney(a.clearing_price_minor), true), td(fmtInt(a.sold), true), td(fmtInt(a.bidders), true), td(a.bid_to_cover || '–', true))),
      { class: 'data', 'data-testid': 'auctions-table' }));
  }

  async function pageAuction(main, ref) {
    const r = await get('/v1/auctions/' + encodeURIComponent(ref));
    main.replaceChildren(h('p', null, h('a', { href: '/auctions' }, '← ' + t('auctions.title'))), h('h1', null, t('auction') + ' ' + ref));
    if (!r.ok) { main.appendChild(errorBlock(r)); return; }
    const a = r.body;
    main.appendChild(h('section', { 'aria-labelledby': 'h-terms' }, h('h2', { id: 'h-terms' }, t('auction.terms')),
      h('dl', { class: 'stats' }, stat(t('class'), a.class), stat(t('status'), t('astatus.' + a.status)), stat(t('closes'), a.closes),
        stat(t('supply'), fmtInt(a.supply)), stat(t('lot'), fmtInt(a.lot)), stat(t('reserve'), fmtMoney(a.reserve_price_minor)),
        stat(t('limitpct'), a.purchase_limit_pct === null ? '–' : a.purchase_limit_pct + ' %'),
        stat(t('qualified'), fmtInt(a.qualified_bidders)), stat(t('sealedbids'), fmtInt(a.sealed_bids)))));
    const res = a.result;
    const section = h('section', { 'aria-labelledby': 'h-result' }, h('h2', { id: 'h-result' }, t('auction.result')));
    if (!res) section.appendChild(h('p', null, t('auction.notcleared')));
    else {
      section.appendChild(h('dl', { class: 'stats', 'data-testid': 'auction-result' },
        stat(t('clearing'), fmtMoney(res.clearing_price_minor)), stat(t('offered'), fmtInt(res.quantity_offered)),
        stat(t('sold'), fmtInt(res.sold)), stat(t('unsold'), fmtInt(res.unsold)), stat(t('bidders'), fmtInt(res.bidders)),
        stat(t('winners'), fmtInt(res.winners)), stat(t('cover'), res.bid_to_cover),
        stat(t('cancelled'), res.cancelled ? t('yes') : t('no'))));
      const c = res.quantity_offered ? Math.round((res.sold * 100) / res.quantity_offered) : 0;
      section.appendChild(h('p', null, t('coverage', { pct: c })));
      const bar = h('progress', { max: 100, value: c, 'aria-label': t('coverage', { pct: c }) });
      section.appendChild(bar);
    }
    main.appendChild(section);
  }

  async function pageTransparency(main) {
    const r = await get('/v1/transparency');
    main.replaceChildren(h('h1', null, t('transparency.title')));
    if (!r.ok) { main.appendChild(errorBlock(r)); return; }
    const b = r.body;
    state.jurisdictions = b.jurisdictions;
    main.appendChild(h('p', { class: 'muted' }, t('transparency.asof', { date: b.as_of || '–', seq: b.last_seq, market: b.market })));
    // supply by jurisdiction and unit type (totals), then by vintage
    const totals = new Map();
    for (const x of b.supply) {
      const k = x.jurisdiction + '|' + x.unit_type;
      const v = totals.get(k) || { jurisdiction: x.jurisdiction, unit_type: x.unit_type, issued: 0, held: 0, surrendered: 0, cancelled: 0, deleted: 0 };
      for (const f of ['issued', 'held', 'surrendered', 'cancelled', 'deleted']) v[f] += x[f];
      totals.set(k, v);
    }
    const supplyRow = (x, vintage) => h('tr', null, h('th', { scope: 'row' }, jurisdictionName(x.jurisdiction)), td(x.unit_type), vintage ? td(x.vintage, true) : null,
      td(fmtInt(x.issued), true), td(fmtInt(x.held), true), td(fmtInt(x.surrendered), true), td(fmtInt(x.cancelled), true));
    const cols = [num(t('issued')), num(t('held')), num(t('surrendered')), num(t('cancelled'))];
    main.appendChild(h('section', { 'aria-labelledby': 'h-supply' }, h('h2', { id: 'h-supply' }, t('supply.title')),
      table(t('supply.byjurisdiction'), [t('jurisdiction'), t('unittype')].concat(cols), [...totals.values()].map((x) => supplyRow(x, false)), { class: 'data', 'data-testid': 'supply-table' }),
      h('details', null, h('summary', null, t('supply.byvintage')),
        table(null, [t('jurisdiction'), t('unittype'), num(t('vintage'))].concat(cols), b.supply.map((x) => supplyRow(x, true)), { class: 'data' }))));
    main.appendChild(h('section', { 'aria-labelledby': 'h-tcomp' }, h('h2', { id: 'h-tcomp' }, t('compliance.title')),
      table(null, [t('jurisdiction'), t('obligation'), num(t('year')), num(t('installations')), num(t('compliant')), num(t('notcompliant')), num(t('pending')), num(t('verified')), num(t('surrendered'))],
        b.compliance.map((i) => h('tr', null, h('th', { scope: 'row' }, jurisdictionName(i.jurisdiction)), td(i.obligation), td(i.year, true), td(fmtInt(i.installations), true),
          td(fmtInt(i.compliant), true), td(fmtInt(i.not_compliant), true), td(fmtInt(i.pending), true), td(fmtInt(i.verified), true), td(fmtInt(i.surrendered), true))),
        { class: 'data', 'data-testid': 'transparency-compliance' })));
    const grid = h('div', { class: 'grid2' });
    grid.appendChild(h('section', { 'aria-labelledby': 'h-tflows' }, h('h2', { id: 'h-tflows' }, t('flows.title')),
      table(null, [t('pair'), t('unittype'), num(t('flows.ab')), num(t('flows.ba')), num(t('net'))],
        b.net_flows.map((p) => h('tr', null, h('th', { scope: 'row' }, jurisdictionName(p.first) + ' ↔ ' + jurisdictionName(p.second)), td(p.unit_type),
          td(fmtInt(p.first_to_second), true), td(fmtInt(p.second_to_first), true), td(fmtInt(p.net), true))),
        { class: 'data', 'data-testid': 'transparency-flows' })));
    grid.appendChild(h('section', { 'aria-label': t('flows.title') }, h('h2', null, t('flows.diagram')), flowsSection(b.jurisdictions, b.net_flows)));
    main.appendChild(grid);
    main.appendChild(h('section', { 'aria-labelledby': 'h-tmarket' }, h('h2', { id: 'h-tmarket' }, t('market.stats')),
      table(null, [t('instrument'), t('period'), num(t('days')), num(t('trades')), num(t('volume')), num(t('turnover')), num(t('vwap')), num(t('last'))],
        b.market_statistics.map((m) => h('tr', null, h('th', { scope: 'row' }, classLink(m.class)), td((m.from || '–') + ' – ' + (m.to || '–')),
          td(fmtInt(m.days), true), td(fmtInt(m.trades), true), td(fmtInt(m.volume), true), td(fmtMoney(m.turnover), true), td(fmtMoney(m.vwap), true), td(fmtMoney(m.last), true))),
        { class: 'data', 'data-testid': 'transparency-market' }),
      h('p', { class: 'muted' }, t('market.stats.note'))));
  }

  async function pageSignIn(main) {
    const next = new URLSearchParams(location.search).get('next');
    const target = next && next.startsWith('/') && !next.startsWith('//') ? next : '/';
    const status = h('div', { role: 'status', 'aria-live': 'polite', 'data-testid': 'sign-in-status' });
    const user = h('input', { id: 'username', name: 'username', autocomplete: 'username', required: true, 'data-testid': 'sign-in-username' });
    const pass = h('input', { id: 'password', name: 'password', type: 'password', autocomplete: 'current-password', required: true, 'data-testid': 'sign-in-password' });
    const code = h('input', { id: 'sign-in-otp', name: 'code', inputmode: 'numeric', autocomplete: 'one-time-code', 'data-testid': 'sign-in-otp' });
    const otpBox = h('div', { hidden: true }, field('sign-in-otp', t('otp.code'), code),
      h('button', { type: 'button', 'data-testid': 'sign-in-otp-submit', onclick: async () => {
        const r = await api('POST', '/v1/session/second-factor', { code: code.value.trim() });
        if (r.ok) { setSession(r.body); flash(t('session.welcome', { user: r.body.username })); navigate(target); }
        else status.replaceChildren(h('p', { class: 'error', role: 'alert' }, r.body && r.body.error && r.body.error.code === 'WRONG_ONE_TIME_PASSWORD' ? t('otp.wrong') : errorText(r)));
      } }, t('otp.submit')));
    const form = h('form', { class: 'card narrow', 'aria-labelledby': 'h-signin', 'data-testid': 'sign-in-form' },
      h('h1', { id: 'h-signin' }, t('signin.title')),
      field('username', t('signin.username'), user), field('password', t('signin.password'), pass),
      h('button', { type: 'submit', 'data-testid': 'sign-in-submit' }, t('signin.submit')), otpBox, status);
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      status.replaceChildren();
      const r = await api('POST', '/v1/session', { username: user.value.trim(), password: pass.value });
      pass.value = '';
      if (r.ok) {
        setSession(r.body);
        if (r.body.second_factor_enrolled && !r.body.second_factor) {
          otpBox.hidden = false;
          status.replaceChildren(h('p', null, t('signin.needotp')));
          code.focus();
          return;
        }
        flash(t('session.welcome', { user: r.body.username }));
        navigate(target);
        return;
      }
      const c = r.body && r.body.error && r.body.error.code;
      const msg = { INVALID_CREDENTIALS: t('signin.invalid'), LOCKED_OUT: t('signin.locked'), USER_SUSPENDED: t('signin.suspended') }[c] || errorText(r);
      status.replaceChildren(h('p', { class: 'error', role: 'alert' }, msg));
    });
    main.replaceChildren(form);
    user.focus();
  }

  // ---------- start ----------
  function start() {
    state.lang = pickLanguage();
    applyStaticLabels();
    document.getElementById('lang-select').addEventListener('change', (ev) => {
      state.lang = ev.target.value;
      try { localStorage.setItem('lang', state.lang); } catch (e) { /* private mode */ }
      applyStaticLabels();
      renderSession();
      render();
    });
    loadSession().then(render);
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
