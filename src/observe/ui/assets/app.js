// The gatekeeper web view: draws the server-rendered machine SVGs, writes live counts pushed over
// Server-Sent Events into them, and highlights a searched entity's path with its history.
const $ = (selector, root = document) => root.querySelector(selector);
const $$ = (selector, root = document) => [...root.querySelectorAll(selector)];
const text = (value) =>
  value === null || value === undefined ? '–' : typeof value === 'string' ? value : JSON.stringify(value);
const cssEscape = (value) => (window.CSS && CSS.escape ? CSS.escape(value) : value.replace(/["\\]/g, '\\$&'));

let lastRevision = -1;

async function loadMachines() {
  const machines = await (await fetch('/api/machines')).json();
  const container = $('#machines');
  for (const machine of machines) {
    const card = document.createElement('section');
    card.className = 'machine-card';
    card.dataset.aggregate = machine.aggregate;
    card.innerHTML = `
      <h2><span class="name"></span> <small></small></h2>
      <p class="description"></p>
      <div class="figures">
        <span><b data-figure="entities">0</b> entities</span>
        <span><b data-figure="buffered">0</b> buffered events</span>
        <span><b data-figure="parked">0</b> parked</span>
        <span><b data-figure="stalled">0</b> stalled</span>
        <span><b data-figure="rejected">0</b> rejected</span>
      </div>
      <div class="reasons" data-figure="reasons"></div>
      <div class="diagram">${machine.svg}</div>`;
    $('h2 .name', card).textContent = machine.aggregate;
    $('h2 small', card).textContent = `(${machine.machineId})`;
    $('.description', card).textContent = machine.description ?? '';
    card.addEventListener('click', (event) => {
      const state = event.target.closest('.state:not(.compound)');
      if (state) showState(machine.aggregate, state.dataset.state).catch((error) => console.error(error));
    });
    container.append(card);
  }
}

function applyStats(stats) {
  if (stats.revision < lastRevision) return;
  lastRevision = stats.revision;
  $('[data-total="decisions"]').textContent = stats.decisions;
  for (const outcome of ['applied', 'buffered', 'discarded', 'rejected']) {
    $(`[data-total="${outcome}"]`).textContent = stats.outcomes[outcome];
  }
  for (const [aggregate, figures] of Object.entries(stats.aggregates)) {
    const card = $(`.machine-card[data-aggregate="${cssEscape(aggregate)}"]`);
    if (!card) continue;
    for (const name of ['entities', 'buffered', 'parked', 'stalled'])
      $(`[data-figure="${name}"]`, card).textContent = figures[name];
    $('[data-figure="rejected"]', card).textContent = figures.outcomes.rejected;
    const reasons = Object.entries(figures.rejections).sort((a, b) => b[1] - a[1]);
    $('[data-figure="reasons"]', card).textContent = reasons.length
      ? `rejected: ${reasons.map(([r, n]) => `${r} ${n}`).join(' · ')}`
      : '';
    for (const [state, count] of Object.entries(figures.states)) {
      const label = $(`[data-count="${cssEscape(state)}"]`, card);
      if (!label) continue;
      label.textContent = String(count);
      label.classList.toggle('nonzero', count > 0);
    }
  }
  const recent = $('#recent tbody');
  recent.replaceChildren(
    ...stats.recentRejections.map((rejection) =>
      row([
        rejection.aggregate,
        rejection.key,
        rejection.seq,
        rejection.type,
        rejection.reason,
        rejection.detail ?? '',
      ]),
    ),
  );
  const { parked, stalled } = stats.attention;
  $('#attention').hidden = parked.length === 0 && stalled.length === 0;
  $('#attention-parked').replaceChildren(
    ...(parked.length
      ? parked.map((e) =>
          keyButton(
            e.aggregate,
            e.key,
            e.reason === 'effect-failed'
              ? ' effect failed'
              : e.reason && e.reason !== 'parked-on-rejection'
                ? ` held: ${e.reason}`
                : '',
          ),
        )
      : [document.createTextNode('none')]),
  );
  $('#attention-stalled').replaceChildren(
    ...(stalled.length
      ? stalled.map((e) => keyButton(e.aggregate, e.key, ` ${Math.round(e.ageMs / 1000)}s`))
      : [document.createTextNode('none')]),
  );
  const unrouted = Object.entries(stats.unrouted);
  const untracked = stats.untracked
    ? ` · ${stats.untracked} decisions about entities beyond the tracking limit are not in the per-state counts`
    : '';
  $('#unrouted').textContent =
    (unrouted.length
      ? `Rejected before reaching an entity: ${unrouted.map(([r, n]) => `${r} ${n}`).join(' · ')}`
      : '') + untracked;
}

function keyButton(aggregate, key, note = '') {
  const button = document.createElement('button');
  button.type = 'button';
  button.className = 'key';
  button.dataset.aggregate = aggregate;
  button.dataset.key = key;
  button.textContent = `${aggregate}/${key}${note}`;
  button.addEventListener('click', () => {
    $('#search-key').value = key;
    search(key, aggregate).catch((error) => console.error(error));
  });
  return button;
}

async function showState(aggregate, state) {
  const result = await (
    await fetch(`/api/state?aggregate=${encodeURIComponent(aggregate)}&state=${encodeURIComponent(state)}`)
  ).json();
  const shown = result.keys.length < result.total ? ` (first ${result.keys.length})` : '';
  $('#state-list-title').textContent =
    `${result.total} ${aggregate} entities in ${state.slice(state.indexOf('.') + 1)}${shown}`;
  $('#state-list-keys').replaceChildren(...result.keys.map((key) => keyButton(aggregate, key)));
  $('#state-list').hidden = false;
}

function row(cells, classes = []) {
  const tr = document.createElement('tr');
  cells.forEach((cell, i) => {
    const td = document.createElement('td');
    td.textContent = text(cell);
    if (classes[i]) td.className = classes[i];
    tr.append(td);
  });
  return tr;
}

function connect() {
  const live = $('#live');
  const source = new EventSource('/events');
  source.addEventListener('open', () => {
    live.textContent = '● live';
    live.classList.add('on');
  });
  source.addEventListener('error', () => {
    live.textContent = '○ reconnecting';
    live.classList.remove('on');
  });
  source.addEventListener('stats', (event) => applyStats(JSON.parse(event.data)));
}

function clearHighlight() {
  $$('.state.visited, .state.current, .state.held').forEach((node) =>
    node.classList.remove('visited', 'current', 'held'),
  );
  $$('.edge.taken').forEach((node) => node.classList.remove('taken'));
  $$('.edge-steps').forEach((node) => (node.textContent = ''));
}

async function search(key, aggregate) {
  clearHighlight();
  $('#entity').hidden = true;
  $('#not-found').hidden = true;
  if (!key) return;
  const only = aggregate ? `&aggregate=${encodeURIComponent(aggregate)}` : '';
  const result = await (await fetch(`/api/entity?key=${encodeURIComponent(key)}${only}`)).json();
  const match = result.matches[0];
  if (!match) {
    $('#not-found').textContent = `No entity with key "${key}" in any aggregate.`;
    $('#not-found').hidden = false;
    return;
  }
  const card = $(`.machine-card[data-aggregate="${cssEscape(match.aggregate)}"]`);
  for (const id of match.path.visited)
    $(`.state[data-state="${cssEscape(id)}"]`, card)?.classList.add('visited');
  for (const held of match.path.held)
    for (const id of held.states) $(`.state[data-state="${cssEscape(id)}"]`, card)?.classList.add('held');
  for (const id of match.path.current) {
    const node = $(`.state[data-state="${cssEscape(id)}"]`, card);
    node?.classList.remove('visited');
    node?.classList.add('current');
  }
  const stepsByTransition = new Map();
  for (const step of match.path.steps) {
    if (!step.transition) continue;
    stepsByTransition.set(step.transition, [...(stepsByTransition.get(step.transition) ?? []), step.step]);
  }
  for (const [transition, steps] of stepsByTransition) {
    for (const edge of $$(`.edge[data-transition="${cssEscape(transition)}"]`, card)) {
      edge.classList.add('taken');
      const label = $('.edge-steps', edge);
      if (label) label.textContent = steps.map((n) => `#${n}`).join(' ');
    }
  }
  $('#entity-title').textContent = `${match.aggregate} / ${match.key}`;
  const buffered = match.buffered.length
    ? ` · buffered: ${match.buffered.map((b) => `seq ${text(b.seq)} ${b.type}`).join(', ')}`
    : '';
  const parked = match.parked ? ` · parked on seq ${text(match.parked.seq)} ${match.parked.type}` : '';
  const others =
    result.matches.length > 1
      ? ` · also in: ${result.matches
          .slice(1)
          .map((m) => m.aggregate)
          .join(', ')}`
      : '';
  $('#entity-summary').textContent =
    `state ${text(match.state)} (${match.status ?? 'unknown'}) · last seq ${text(match.lastSeq)}${buffered}${parked}${others}`;
  $('#history tbody').replaceChildren(
    ...match.history.map((entry, i) =>
      row(
        [
          i + 1,
          new Date(entry.at).toISOString().slice(11, 23),
          entry.seq,
          entry.type,
          entry.outcome,
          entry.reason + (entry.fromBuffer ? ' (from buffer)' : ''),
          entry.outcome === 'applied' ? `${text(entry.from)} → ${text(entry.state)}` : text(entry.state),
        ],
        [undefined, undefined, undefined, undefined, `outcome-${entry.outcome}`],
      ),
    ),
  );
  $('#entity').hidden = false;
  card.scrollIntoView({ block: 'nearest' });
}

$('#search').addEventListener('submit', (event) => {
  event.preventDefault();
  const key = $('#search-key').value.trim();
  const url = new URL(location.href);
  if (key) url.searchParams.set('key', key);
  else url.searchParams.delete('key');
  history.replaceState(null, '', url);
  search(key).catch((error) => console.error(error));
});

await loadMachines();
connect();
const initialKey = new URL(location.href).searchParams.get('key');
if (initialKey) {
  $('#search-key').value = initialKey;
  await search(initialKey);
}
document.body.dataset.ready = 'true';
