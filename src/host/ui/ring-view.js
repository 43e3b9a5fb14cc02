// The ring view: one canvas showing every live peer at its id's angle on the 2^160 circle, fed by
// the admin server's event stream (/api/events), with details, lookups and admin actions over the
// JSON routes. Plain browser JavaScript, no build step: the admin server serves this file as is.
// A canvas rather than SVG so that 1,024 peers with their successor arcs redraw in a few ms.

const TAU = Math.PI * 2;
const HOP_STEP_MS = 450; // pace of the lookup animation, one hop per step
const $ = (id) => document.getElementById(id);

const state = {
  peers: [], // live peers from the event stream, sorted by id
  byId: new Map(),
  ghosts: [], // ids still named by a live peer's predecessor or successor list, but not live
  maxKeys: 1,
  selected: null, // id of the peer whose details are shown
  details: null, // /api/peers/<id> answer for the selected peer
  lookup: null, // { nodes: [ids along the path], owner, shown: segments drawn so far }
  memberKey: '', // ids joined: the entry select is rebuilt only when membership changes
  positions: new Map(), // id -> {x, y} in CSS pixels, from the last layout
  renders: 0,
  lastRenderMs: 0,
  lastUpdateMs: 0,
};

const canvas = $('ring');
const ctx = canvas.getContext('2d');

/** Angle of an id: its top 32 bits as a fraction of the circle, 0 at the top, clockwise. */
function angleOf(id) {
  return (parseInt(id.slice(0, 8), 16) / 2 ** 32) * TAU - Math.PI / 2;
}

function geometry() {
  const w = canvas.clientWidth;
  const h = canvas.clientHeight;
  return { w, h, cx: w / 2, cy: h / 2, r: Math.max(40, Math.min(w, h) / 2 - 50) };
}

function layout() {
  const { cx, cy, r } = geometry();
  state.positions.clear();
  const place = (id) => {
    const a = angleOf(id);
    state.positions.set(id, { x: cx + r * Math.cos(a), y: cy + r * Math.sin(a) });
  };
  for (const p of state.peers) place(p.id);
  for (const g of state.ghosts) place(g);
}

/** Colour by key count relative to the fullest peer: blue (few) to red (many). */
function keyColour(keys) {
  const f = state.maxKeys > 0 ? Math.min(1, keys / state.maxKeys) : 0;
  return `hsl(${Math.round(200 - 200 * f)}, 80%, ${Math.round(60 - 5 * f)}%)`;
}

function dotRadius(keys, n) {
  const base = n > 512 ? 2 : n > 128 ? 3 : 4.5;
  return base + (state.maxKeys > 0 ? 3 * Math.sqrt(keys / state.maxKeys) : 0);
}

/** A curve from a to b bowed towards the centre: successor arcs and fingers both use it. */
function curve(a, b, bow) {
  const { cx, cy } = geometry();
  const mx = (a.x + b.x) / 2;
  const my = (a.y + b.y) / 2;
  ctx.moveTo(a.x, a.y);
  ctx.quadraticCurveTo(mx + (cx - mx) * bow, my + (cy - my) * bow, b.x, b.y);
}

function draw() {
  const t0 = performance.now();
  const dpr = window.devicePixelRatio || 1;
  const { w, h, cx, cy, r } = geometry();
  if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
    canvas.width = Math.round(w * dpr);
    canvas.height = Math.round(h * dpr);
  }
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, w, h);
  layout();
  const pos = state.positions;
  const n = state.peers.length;

  ctx.strokeStyle = '#1e2a36';
  ctx.lineWidth = 1;
  ctx.beginPath();
  ctx.arc(cx, cy, r, 0, TAU);
  ctx.stroke();

  // Successor arcs along the inside of the circle, clockwise, one path for all of them: a wrong
  // successor shows up as an arc spanning other peers.
  ctx.strokeStyle = '#3a5068';
  ctx.lineWidth = n > 256 ? 1 : 2;
  ctx.beginPath();
  const ri = r - 5;
  for (const p of state.peers) {
    const s = p.successors[0];
    if (!s || s === p.id || !pos.has(s)) continue;
    const a1 = angleOf(p.id);
    const a2 = angleOf(s);
    ctx.moveTo(cx + ri * Math.cos(a1), cy + ri * Math.sin(a1));
    ctx.arc(cx, cy, ri, a1, a2 <= a1 ? a2 + TAU : a2);
  }
  ctx.stroke();

  // Fingers of the selected peer, as chords.
  const sel = state.selected && pos.get(state.selected);
  if (sel && state.details) {
    ctx.strokeStyle = '#b58cff';
    ctx.lineWidth = 1.2;
    ctx.beginPath();
    for (const f of state.details.fingers) {
      const b = pos.get(f.id);
      if (b && f.id !== state.selected) curve(sel, b, 0.35);
    }
    ctx.stroke();
  }

  // Ghosts: peers others still point at though they are gone.
  ctx.fillStyle = '#555';
  for (const g of state.ghosts) {
    const q = pos.get(g);
    ctx.beginPath();
    ctx.arc(q.x, q.y, 4, 0, TAU);
    ctx.fill();
  }

  // Peers, batched by colour so a thousand dots cost a handful of style changes.
  const byColour = new Map();
  for (const p of state.peers) {
    const c = keyColour(p.keys);
    let list = byColour.get(c);
    if (!list) byColour.set(c, (list = []));
    list.push(p);
  }
  for (const [c, list] of byColour) {
    ctx.fillStyle = c;
    ctx.beginPath();
    for (const p of list) {
      const q = pos.get(p.id);
      const rad = dotRadius(p.keys, n);
      ctx.moveTo(q.x + rad, q.y);
      ctx.arc(q.x, q.y, rad, 0, TAU);
    }
    ctx.fill();
  }

  drawLookup(pos);

  if (sel) {
    ctx.strokeStyle = '#fff';
    ctx.lineWidth = 2;
    ctx.beginPath();
    ctx.arc(sel.x, sel.y, 9, 0, TAU);
    ctx.stroke();
  }

  const ms = performance.now() - t0;
  state.renders++;
  state.lastRenderMs = ms;
  $('render-time').textContent = `render ${ms.toFixed(1)} ms`;
}

function drawLookup(pos) {
  const l = state.lookup;
  if (!l) return;
  ctx.strokeStyle = '#ffb454';
  ctx.fillStyle = '#ffb454';
  ctx.lineWidth = 2.5;
  for (let i = 0; i < l.shown && i + 1 < l.nodes.length; i++) {
    const a = pos.get(l.nodes[i]);
    const b = pos.get(l.nodes[i + 1]);
    if (!a || !b) continue;
    ctx.beginPath();
    curve(a, b, 0.5);
    ctx.stroke();
  }
  const at = pos.get(l.nodes[Math.min(l.shown, l.nodes.length - 1)]);
  if (at) {
    ctx.beginPath();
    ctx.arc(at.x, at.y, 7, 0, TAU);
    ctx.fill();
  }
  const owner = pos.get(l.owner);
  if (owner && l.shown >= l.nodes.length - 1) {
    ctx.lineWidth = 2;
    ctx.beginPath();
    ctx.arc(owner.x, owner.y, 12, 0, TAU);
    ctx.stroke();
  }
}

let drawQueued = false;
function redraw() {
  if (drawQueued) return;
  drawQueued = true;
  requestAnimationFrame(() => {
    drawQueued = false;
    draw();
  });
}

// --- data ---

function setPeers(list) {
  const t0 = performance.now();
  state.peers = list.slice().sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  state.byId = new Map(state.peers.map((p) => [p.id, p]));
  const ghosts = new Set();
  let keys = 0;
  let maxKeys = 0;
  for (const p of state.peers) {
    keys += p.keys;
    if (p.keys > maxKeys) maxKeys = p.keys;
    for (const ref of [p.predecessor, ...p.successors]) if (ref && !state.byId.has(ref)) ghosts.add(ref);
  }
  state.ghosts = [...ghosts];
  state.maxKeys = maxKeys;
  $('peer-count').textContent = String(state.peers.length);
  $('key-count').textContent = String(keys);
  document.body.dataset.peers = String(state.peers.length);
  document.body.dataset.ghosts = String(state.ghosts.length);
  updateEntrySelect();
  if (state.selected && !state.byId.has(state.selected)) {
    message(`peer ${state.selected.slice(0, 8)} is gone`);
    select(null);
  } else if (state.selected) {
    void loadDetails(state.selected);
  }
  draw();
  state.lastUpdateMs = performance.now() - t0;
}

function updateEntrySelect() {
  const key = state.peers.map((p) => p.id).join();
  if (key === state.memberKey) return;
  state.memberKey = key;
  const sel = $('lookup-via');
  const before = sel.value;
  sel.replaceChildren(
    ...state.peers.map((p) => {
      const o = document.createElement('option');
      o.value = p.id;
      o.textContent = `${p.addr} · ${p.id.slice(0, 8)}`;
      return o;
    }),
  );
  if (state.byId.has(before)) sel.value = before;
}

async function api(method, path, body) {
  const res = await fetch(path, {
    method,
    headers: body ? { 'content-type': 'application/json' } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  const json = await res.json().catch(() => ({ error: `HTTP ${res.status}` }));
  if (!res.ok) throw new Error(json.error || `HTTP ${res.status}`);
  return json;
}

function message(text) {
  $('message').textContent = text;
}

// --- selection and details ---

function peerLink(id) {
  const a = document.createElement('a');
  a.className = 'peer';
  a.textContent = id ? `${id.slice(0, 12)}… ${state.byId.get(id)?.addr ?? '(gone)'}` : '(unknown)';
  if (id) a.addEventListener('click', () => select(id));
  return a;
}

function select(id) {
  state.selected = id;
  state.details = null;
  $('details').hidden = !id;
  if (id) {
    $('lookup-via').value = id;
    void loadDetails(id);
  }
  redraw();
}

async function loadDetails(id) {
  try {
    const d = await api('GET', `/api/peers/${id}`);
    if (state.selected !== id) return;
    state.details = d;
    $('d-short').textContent = d.id.slice(0, 8);
    $('d-id').textContent = d.id;
    $('d-addr').textContent = d.addr;
    $('d-worker').textContent = String(d.worker);
    $('d-keys').textContent = `${d.keys} owned, ${d.stored} records held`;
    $('d-pred').replaceChildren(peerLink(d.predecessor));
    $('d-succ').replaceChildren(
      ...d.successors.map((s) => {
        const li = document.createElement('li');
        li.append(peerLink(s));
        return li;
      }),
    );
    $('d-fingers').replaceChildren(
      ...d.fingers.map((f) => {
        const li = document.createElement('li');
        li.value = f.start;
        li.append(`${f.start === f.end ? f.start : `${f.start}–${f.end}`}: `, peerLink(f.id));
        return li;
      }),
    );
    $('details').dataset.peerId = d.id;
    redraw();
  } catch (err) {
    if (state.selected === id) message(`details of ${id.slice(0, 8)}: ${err.message}`);
  }
}

function peerAt(x, y) {
  let best = null;
  let bestD = 14 * 14;
  for (const [id, q] of state.positions) {
    if (!state.byId.has(id)) continue;
    const d = (q.x - x) ** 2 + (q.y - y) ** 2;
    if (d < bestD) {
      bestD = d;
      best = id;
    }
  }
  return best;
}

canvas.addEventListener('click', (e) => {
  const r = canvas.getBoundingClientRect();
  select(peerAt(e.clientX - r.left, e.clientY - r.top));
});

canvas.addEventListener('mousemove', (e) => {
  const r = canvas.getBoundingClientRect();
  const id = peerAt(e.clientX - r.left, e.clientY - r.top);
  const tip = $('tooltip');
  if (!id) {
    tip.hidden = true;
    return;
  }
  const p = state.byId.get(id);
  tip.textContent = `${id.slice(0, 8)} · ${p.addr} · ${p.keys} keys`;
  tip.style.left = `${e.clientX - r.left + 12}px`;
  tip.style.top = `${e.clientY - r.top + 12}px`;
  tip.hidden = false;
});

// --- actions ---

async function removeSelected(mode) {
  const id = state.selected;
  if (!id) return;
  try {
    await api('DELETE', `/api/peers/${id}?mode=${mode}`);
    message(`${mode === 'crash' ? 'crashed' : 'left'}: ${id.slice(0, 8)}`);
    select(null);
  } catch (err) {
    message(`${mode} failed: ${err.message}`);
  }
}

$('leave-btn').addEventListener('click', () => void removeSelected('leave'));
$('crash-btn').addEventListener('click', () => void removeSelected('crash'));

$('add-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const btn = $('add-btn');
  btn.disabled = true;
  message('adding peers: they join in waves, each waiting for a consistent ring…');
  try {
    const { added } = await api('POST', '/api/peers', { count: Number($('add-count').value) });
    message(`added ${added.length} peer(s)`);
  } catch (err) {
    message(`add failed: ${err.message}`);
  } finally {
    btn.disabled = false;
  }
});

let animation = null;
$('lookup-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const key = $('lookup-key').value;
  const via = $('lookup-via').value;
  const result = $('lookup-result');
  result.dataset.done = 'false';
  clearTimeout(animation);
  try {
    const cache = $('lookup-plain').checked ? '&cache=false' : '';
    const res = await api('GET', `/api/lookup?key=${encodeURIComponent(key)}&via=${encodeURIComponent(via)}${cache}`);
    const nodes = [res.via.id, ...res.path.map((p) => p.id)];
    if (nodes.at(-1) !== res.owner.id) nodes.push(res.owner.id);
    state.lookup = { nodes, owner: res.owner.id, shown: 0 };
    $('lookup-owner').textContent = `${res.owner.id.slice(0, 8)} ${res.owner.addr}`;
    $('lookup-hops').textContent = '0';
    const items = [res.via, ...res.path].map((p, i) => {
      const li = document.createElement('li');
      li.value = i;
      li.dataset.id = p.id;
      li.dataset.role = i === 0 ? 'entry' : 'hop';
      li.textContent = `${i === 0 ? 'entry ' : ''}${p.id.slice(0, 8)} ${p.addr}`;
      return li;
    });
    if (res.path.at(-1)?.id !== res.owner.id && res.via.id !== res.owner.id) {
      const li = document.createElement('li');
      li.dataset.id = res.owner.id;
      li.dataset.role = 'owner';
      li.textContent = `owner ${res.owner.id.slice(0, 8)} ${res.owner.addr} (named by the last hop)`;
      items.push(li);
    }
    $('lookup-path').replaceChildren(...items);
    result.hidden = false;
    const step = () => {
      const l = state.lookup;
      items.forEach((li, i) => li.classList.toggle('current', i === l.shown));
      $('lookup-hops').textContent = String(Math.min(l.shown, res.hops));
      redraw();
      if (l.shown < nodes.length - 1) {
        l.shown++;
        animation = setTimeout(step, HOP_STEP_MS);
      } else {
        $('lookup-hops').textContent = String(res.hops);
        result.dataset.hops = String(res.hops);
        result.dataset.done = 'true';
      }
    };
    step();
  } catch (err) {
    message(`lookup failed: ${err.message}`);
  }
});

// --- live updates ---

function connect() {
  const es = new EventSource('/api/events');
  es.addEventListener('peers', (e) => {
    $('status').textContent = 'live';
    setPeers(JSON.parse(e.data));
  });
  es.addEventListener('error', () => {
    $('status').textContent = 'reconnecting…';
  });
}

canvas.addEventListener('mouseleave', () => {
  $('tooltip').hidden = true;
});

window.addEventListener('resize', redraw);

/** For tests and the screenshot script: what is drawn and where. */
window.ringView = {
  peers: () => state.peers.map((p) => p.id),
  ghosts: () => state.ghosts.slice(),
  /** Page coordinates of a peer's dot (to click it), or null. */
  positionOf(id) {
    const q = state.positions.get(id);
    if (!q) return null;
    const r = canvas.getBoundingClientRect();
    return { x: r.left + q.x, y: r.top + q.y };
  },
  /** Redraws n times and returns the median time of one full draw, in ms. */
  benchmark(n = 20) {
    const times = [];
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      draw();
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    return { median: times[Math.floor(n / 2)], max: times[n - 1], peers: state.peers.length, lastUpdateMs: state.lastUpdateMs };
  },
  get lastRenderMs() {
    return state.lastRenderMs;
  },
};

connect();
draw();
