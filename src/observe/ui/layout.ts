/**
 * Lays a machine out with ELK (elkjs, layered algorithm, compound states as nested graphs) and
 * returns absolute coordinates for every state, initial marker, edge route and edge label.
 */
import elkModule from 'elkjs/lib/elk.bundled.js';
import type { ELK, ElkExtendedEdge, ElkNode } from 'elkjs/lib/elk-api.js';
import { transitionLabel } from '../export/labels.ts';
import type { MachineModel, StateModel } from '../export/machine-model.ts';

export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface LaidOutState extends Box {
  id: string;
  key: string;
  type: StateModel['type'];
  description: string | undefined;
  /** True for states with children (drawn as containers). */
  compound: boolean;
  depth: number;
}

export interface LaidOutEdge {
  /** `<transition id>>` + target index (a transition with two targets draws two edges). */
  id: string;
  transitionId: string | undefined;
  source: string;
  target: string;
  /** True for the arrow from an initial marker. */
  initial: boolean;
  points: { x: number; y: number }[];
  label: (Box & { text: string }) | undefined;
}

export interface MachineLayout {
  width: number;
  height: number;
  states: LaidOutState[];
  /** Initial markers (small dots), one per compound scope. */
  initials: (Box & { id: string })[];
  edges: LaidOutEdge[];
}

const CHAR_WIDTH = 7;
const LABEL_HEIGHT = 14;
const STATE_HEIGHT = 46;
const COMPOUND_HEADER = 26;
const INITIAL_SIZE = 10;

/** elkjs is CommonJS (`module.exports = ELK`); its typings describe an ES default export. */
type ElkConstructor = new () => ELK;
const ElkClass = ((elkModule as unknown as { default?: ElkConstructor }).default ??
  elkModule) as unknown as ElkConstructor;
const elk = new ElkClass();

export async function layoutMachine(model: MachineModel): Promise<MachineLayout> {
  const byId = new Map(model.states.map((state) => [state.id, state]));
  const edges: ElkExtendedEdge[] = [];
  const edgeInfo = new Map<
    string,
    { transitionId: string | undefined; source: string; target: string; initial: boolean }
  >();

  const toNode = (state: StateModel): ElkNode => {
    if (state.children.length === 0) {
      return { id: state.id, width: Math.max(90, state.key.length * CHAR_WIDTH + 30), height: STATE_HEIGHT };
    }
    return {
      id: state.id,
      layoutOptions: { 'elk.padding': `[top=${COMPOUND_HEADER + 8},left=12,bottom=12,right=12]` },
      children: scopeChildren(state),
    };
  };
  const scopeChildren = (scope: StateModel): ElkNode[] => {
    const children = scope.children.map(toNode);
    if (scope.type !== 'parallel' && scope.initial !== undefined) {
      const initialId = `${scope.id}.__initial`;
      children.unshift({ id: initialId, width: INITIAL_SIZE, height: INITIAL_SIZE });
      const target = scope.children.find((child) => child.key === scope.initial);
      if (target) {
        const id = `${initialId}>0`;
        edges.push({ id, sources: [initialId], targets: [target.id] });
        edgeInfo.set(id, { transitionId: undefined, source: initialId, target: target.id, initial: true });
      }
    }
    return children;
  };

  for (const transition of model.transitions) {
    if (transition.source === model.root.id) continue;
    const targets = transition.targets.length === 0 ? [transition.source] : transition.targets;
    const text = transitionLabel(transition);
    targets.forEach((target, index) => {
      if (!byId.has(target)) return;
      const id = `${transition.id}>${index}`;
      edges.push({
        id,
        sources: [transition.source],
        targets: [target],
        labels: [{ text, width: text.length * CHAR_WIDTH + 6, height: LABEL_HEIGHT }],
      });
      edgeInfo.set(id, { transitionId: transition.id, source: transition.source, target, initial: false });
    });
  }

  const graph: ElkNode = {
    id: '__root',
    layoutOptions: {
      'elk.algorithm': 'layered',
      'elk.direction': 'RIGHT',
      'elk.hierarchyHandling': 'INCLUDE_CHILDREN',
      'elk.edgeRouting': 'ORTHOGONAL',
      'elk.layered.spacing.nodeNodeBetweenLayers': '40',
      'elk.spacing.nodeNode': '30',
      'elk.spacing.edgeLabel': '4',
      'elk.edgeLabels.inline': 'false',
      'elk.padding': '[top=16,left=16,bottom=16,right=16]',
    },
    children: scopeChildren(model.root),
    edges,
  };
  const laid = await elk.layout(graph);

  const states: LaidOutState[] = [];
  const initials: MachineLayout['initials'] = [];
  const offsets = new Map<string, { x: number; y: number }>([['__root', { x: 0, y: 0 }]]);
  const collectEdges: { edge: ElkExtendedEdge }[] = [];
  const walk = (node: ElkNode, origin: { x: number; y: number }, depth: number) => {
    for (const child of node.children ?? []) {
      const x = origin.x + (child.x ?? 0);
      const y = origin.y + (child.y ?? 0);
      offsets.set(child.id, { x, y });
      const state = byId.get(child.id);
      if (state) {
        states.push({
          id: state.id,
          key: state.key,
          type: state.type,
          description: state.description,
          compound: state.children.length > 0,
          depth,
          x,
          y,
          width: child.width ?? 0,
          height: child.height ?? 0,
        });
      } else {
        initials.push({
          id: child.id,
          x,
          y,
          width: child.width ?? INITIAL_SIZE,
          height: child.height ?? INITIAL_SIZE,
        });
      }
      walk(child, { x, y }, depth + 1);
    }
    for (const edge of node.edges ?? []) collectEdges.push({ edge });
  };
  walk(laid, { x: 0, y: 0 }, 0);

  const laidEdges: LaidOutEdge[] = [];
  for (const { edge } of collectEdges) {
    const info = edgeInfo.get(edge.id);
    if (!info) continue;
    // ELK gives edge coordinates relative to the edge's container node.
    const container = (edge as ElkExtendedEdge & { container?: string }).container ?? '__root';
    const origin = offsets.get(container) ?? { x: 0, y: 0 };
    const points: { x: number; y: number }[] = [];
    for (const section of edge.sections ?? []) {
      for (const point of [section.startPoint, ...(section.bendPoints ?? []), section.endPoint]) {
        points.push({ x: origin.x + point.x, y: origin.y + point.y });
      }
    }
    const label = edge.labels?.[0];
    laidEdges.push({
      id: edge.id,
      ...info,
      points,
      label:
        label && label.text !== undefined
          ? {
              text: label.text,
              x: origin.x + (label.x ?? 0),
              y: origin.y + (label.y ?? 0),
              width: label.width ?? 0,
              height: label.height ?? 0,
            }
          : undefined,
    });
  }
  return { width: laid.width ?? 0, height: laid.height ?? 0, states, initials, edges: laidEdges };
}
