/**
 * Draws a laid-out machine as an SVG string. Every state and edge carries data attributes
 * (`data-state`, `data-transition`, `data-count`) so the page can colour the path of an entity and
 * write live counts without redrawing; the look lives in the page's CSS.
 */
import type { LaidOutEdge, MachineLayout } from './layout.ts';

export function renderMachineSvg(aggregate: string, layout: MachineLayout): string {
  const arrow = `arrow-${slug(aggregate)}`;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" class="machine" data-aggregate="${escape(aggregate)}" viewBox="0 0 ${round(layout.width)} ${round(layout.height)}" width="${round(layout.width)}" height="${round(layout.height)}" role="img" aria-label="${escape(`${aggregate} state machine`)}">`,
    `<defs><marker id="${arrow}" viewBox="0 0 10 10" refX="9" refY="5" markerUnits="userSpaceOnUse" markerWidth="9" markerHeight="9" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" class="arrow-head"/></marker></defs>`,
  ];
  const ordered = [...layout.states].sort((a, b) => a.depth - b.depth);
  parts.push('<g class="containers">');
  for (const state of ordered.filter((candidate) => candidate.compound)) {
    parts.push(
      `<g class="state compound${state.type === 'parallel' ? ' parallel' : ''}" data-state="${escape(state.id)}">` +
        `<rect x="${round(state.x)}" y="${round(state.y)}" width="${round(state.width)}" height="${round(state.height)}" rx="10"/>` +
        `<text class="state-name" x="${round(state.x + 10)}" y="${round(state.y + 18)}">${escape(state.key)}</text>` +
        title(state.description) +
        '</g>',
    );
  }
  parts.push('</g><g class="edges">');
  for (const edge of layout.edges) parts.push(renderEdge(edge, arrow));
  parts.push('</g><g class="states">');
  for (const initial of layout.initials) {
    parts.push(
      `<circle class="initial" cx="${round(initial.x + initial.width / 2)}" cy="${round(initial.y + initial.height / 2)}" r="${round(initial.width / 2)}"/>`,
    );
  }
  for (const state of ordered.filter((candidate) => !candidate.compound)) {
    const cx = state.x + state.width / 2;
    parts.push(
      `<g class="state${state.type === 'final' ? ' final' : ''}" data-state="${escape(state.id)}">` +
        `<rect x="${round(state.x)}" y="${round(state.y)}" width="${round(state.width)}" height="${round(state.height)}" rx="8"/>` +
        (state.type === 'final'
          ? `<rect class="final-ring" x="${round(state.x + 3)}" y="${round(state.y + 3)}" width="${round(state.width - 6)}" height="${round(state.height - 6)}" rx="6"/>`
          : '') +
        `<text class="state-name" x="${round(cx)}" y="${round(state.y + 19)}" text-anchor="middle">${escape(state.key)}</text>` +
        `<text class="state-count" data-count="${escape(state.id)}" x="${round(cx)}" y="${round(state.y + 36)}" text-anchor="middle">0</text>` +
        title(state.description) +
        '</g>',
    );
  }
  parts.push('</g></svg>');
  return parts.join('');
}

function renderEdge(edge: LaidOutEdge, arrow: string): string {
  if (edge.points.length === 0) return '';
  const d = edge.points
    .map((point, i) => `${i === 0 ? 'M' : 'L'} ${round(point.x)} ${round(point.y)}`)
    .join(' ');
  const attributes =
    edge.transitionId === undefined
      ? ' data-initial="true"'
      : ` data-transition="${escape(edge.transitionId)}"`;
  const label = edge.label
    ? `<text class="edge-label" x="${round(edge.label.x + 3)}" y="${round(edge.label.y + edge.label.height - 3)}">${escape(edge.label.text)}</text>` +
      `<text class="edge-steps" x="${round(edge.label.x + 3)}" y="${round(edge.label.y - 3)}"></text>`
    : '';
  return `<g class="edge${edge.initial ? ' initial-edge' : ''}"${attributes} data-source="${escape(edge.source)}" data-target="${escape(edge.target)}"><path d="${d}" marker-end="url(#${arrow})"/>${label}</g>`;
}

function title(description: string | undefined): string {
  return description === undefined ? '' : `<title>${escape(description)}</title>`;
}

function round(value: number): string {
  return String(Math.round(value * 10) / 10);
}

function slug(text: string): string {
  return text.replace(/[^A-Za-z0-9_-]/g, '_');
}

/** Text and attribute escaping for SVG/XML. */
export function escape(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}
