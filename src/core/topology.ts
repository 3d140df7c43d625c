/**
 * Machine topology, analysed once per aggregate: which state accepts which event type, which
 * states can still be reached from where the entity is, and where the cycles are. This is what
 * lets events without `seq` be told apart as future (a reachable state accepts them) or past.
 * Guards are ignored here on purpose: topology over-approximates, and guards are checked against
 * the real snapshot at the event's turn.
 */
import type { AnyStateMachine } from 'xstate';
import { getStateNodes } from '@xstate/graph';
import type { StateValue } from './outcome.ts';

/** The parts of an XState state node this module reads, typed once instead of XState's `any` generics. */
interface AnyStateNode {
  id: string;
  type: 'atomic' | 'compound' | 'parallel' | 'final' | 'history';
  parent?: AnyStateNode | undefined;
  states: Record<string, AnyStateNode>;
  ownEvents: string[];
  transitions: Map<string, { target?: readonly AnyStateNode[] | undefined }[]>;
  always?: { target?: readonly AnyStateNode[] | undefined }[] | undefined;
  initial?: { target: readonly AnyStateNode[] } | undefined;
  after: readonly unknown[];
  invoke: readonly unknown[];
}

function nodesOf(machine: AnyStateMachine): AnyStateNode[] {
  const root = machine.root as unknown as AnyStateNode;
  return [root, ...(getStateNodes(machine.root) as unknown as AnyStateNode[])];
}

/** What the gatekeeper knows about one machine's shape. */
export interface MachineTopology {
  machineId: string;
  /** Every event type some state accepts (internal `xstate.*` events excluded). */
  eventTypes: readonly string[];
  /** Event type → ids of the state nodes that have a transition for it. */
  acceptedIn: ReadonlyMap<string, readonly string[]>;
  /** Types named by payload schemas that no state accepts: almost always a typo. */
  neverAccepted: readonly string[];
  /** Groups of states that can reach each other; in them only `seq` tells past from future. */
  cycles: readonly (readonly string[])[];
  /** Ids of the leaf states, with the event types each accepts (its own and its ancestors'). */
  leaves: ReadonlyMap<string, readonly string[]>;
  finalStates: readonly string[];
  /**
   * States with delayed (`after`) transitions or invoked actors. The gatekeeper moves a machine
   * only on events it decides, so these timers and actors never run there.
   */
  notRunHere: readonly { state: string; feature: 'after' | 'invoke' }[];
  /** True when some state accepts this type (or a wildcard that matches it). */
  isKnownType(type: string): boolean;
  /** True when one of the active leaves (or an ancestor) has a transition for `type`, guards aside. */
  acceptsNow(value: StateValue, type: string): boolean;
  /** True when a state reachable from the active leaves in one or more steps accepts `type`. */
  acceptsLater(value: StateValue, type: string): boolean;
}

/** Matches XState's event descriptors: exact, `*`, or a `prefix.*` partial wildcard. */
function descriptorMatches(descriptor: string, type: string): boolean {
  if (descriptor === type || descriptor === '*') return true;
  return descriptor.endsWith('.*') && type.startsWith(descriptor.slice(0, -1));
}

function isInternal(descriptor: string): boolean {
  return descriptor.startsWith('xstate.');
}

function isLeaf(node: AnyStateNode): boolean {
  return node.type === 'atomic' || node.type === 'final';
}

/** The leaves entered when a transition targets `node`: initial descendants, all regions, or (history) any. */
function enteredLeaves(node: AnyStateNode): AnyStateNode[] {
  if (isLeaf(node)) return [node];
  if (node.type === 'history') return node.parent ? allLeaves(node.parent) : [];
  if (node.type === 'parallel') return Object.values(node.states).flatMap(enteredLeaves);
  const initialTargets = node.initial?.target ?? [];
  return initialTargets.flatMap(enteredLeaves);
}

function allLeaves(node: AnyStateNode): AnyStateNode[] {
  return isLeaf(node) ? [node] : Object.values(node.states).flatMap(allLeaves);
}

function selfAndAncestors(node: AnyStateNode): AnyStateNode[] {
  const chain: AnyStateNode[] = [];
  for (let current: AnyStateNode | undefined = node; current; current = current.parent) chain.push(current);
  return chain;
}

/** Own non-internal descriptors of a node, skipping "forbidden" transitions (no target, no actions). */
function ownDescriptors(node: AnyStateNode): string[] {
  return node.ownEvents.filter((descriptor) => !isInternal(descriptor));
}

/** Analyses a machine. `declaredTypes` (e.g. payload schema keys) are checked for being accepted somewhere. */
export function analyzeMachine(
  machine: AnyStateMachine,
  declaredTypes: readonly string[] = [],
): MachineTopology {
  const nodes = nodesOf(machine);
  const leafNodes = nodes.filter(isLeaf);

  const acceptedIn = new Map<string, string[]>();
  for (const node of nodes) {
    for (const descriptor of ownDescriptors(node)) {
      const list = acceptedIn.get(descriptor) ?? [];
      list.push(node.id);
      acceptedIn.set(descriptor, list);
    }
  }
  const descriptors = [...acceptedIn.keys()];
  // Asked for every event: exact types answer from a set, only wildcards need matching.
  const exactTypes = new Set(descriptors.filter((d) => d !== '*' && !d.endsWith('.*')));
  const wildcards = descriptors.filter((d) => !exactTypes.has(d));

  const leafAccepts = new Map<string, string[]>();
  for (const leaf of leafNodes) {
    leafAccepts.set(leaf.id, [...new Set(selfAndAncestors(leaf).flatMap(ownDescriptors))]);
  }

  const edges = buildLeafEdges(leafNodes);
  const reachable = new Map<string, Set<string>>();
  for (const leaf of leafNodes) reachable.set(leaf.id, reachableFrom(leaf.id, edges));

  const laterDescriptors = new Map<string, readonly string[]>();
  for (const [leafId, targets] of reachable) {
    const later = new Set<string>();
    for (const target of targets) for (const d of leafAccepts.get(target) ?? []) later.add(d);
    laterDescriptors.set(leafId, [...later]);
  }

  const leavesByValue = new Map<string, readonly string[]>();
  const leavesOf = (value: StateValue): readonly string[] => {
    const cacheKey = typeof value === 'string' ? value : JSON.stringify(value);
    let ids = leavesByValue.get(cacheKey);
    if (!ids) {
      ids = activeLeafIds(machine, value);
      leavesByValue.set(cacheKey, ids);
    }
    return ids;
  };
  const anyMatches = (list: readonly string[] | undefined, type: string) =>
    list !== undefined && list.some((descriptor) => descriptorMatches(descriptor, type));

  return {
    machineId: machine.id,
    eventTypes: descriptors,
    acceptedIn,
    neverAccepted: declaredTypes.filter((type) => !descriptors.some((d) => descriptorMatches(d, type))),
    cycles: findCycles(
      leafNodes.map((leaf) => leaf.id),
      edges,
    ),
    leaves: leafAccepts,
    finalStates: leafNodes.filter((leaf) => leaf.type === 'final').map((leaf) => leaf.id),
    notRunHere: nodes.flatMap((node) => [
      ...(node.after.length > 0 ? [{ state: node.id, feature: 'after' as const }] : []),
      ...(node.invoke.length > 0 ? [{ state: node.id, feature: 'invoke' as const }] : []),
    ]),
    isKnownType: (type) => exactTypes.has(type) || wildcards.some((d) => descriptorMatches(d, type)),
    acceptsNow: (value, type) => leavesOf(value).some((id) => anyMatches(leafAccepts.get(id), type)),
    acceptsLater: (value, type) => leavesOf(value).some((id) => anyMatches(laterDescriptors.get(id), type)),
  };
}

/** Leaf → leaves it can move to in one transition (including eventless `always` ones). */
function buildLeafEdges(leafNodes: AnyStateNode[]): Map<string, Set<string>> {
  const edges = new Map<string, Set<string>>();
  for (const leaf of leafNodes) {
    const next = new Set<string>();
    for (const active of selfAndAncestors(leaf)) {
      const transitions = [...active.transitions.values()].flat();
      for (const transition of [...transitions, ...(active.always ?? [])]) {
        for (const target of transition.target ?? [])
          for (const entered of enteredLeaves(target)) next.add(entered.id);
      }
    }
    edges.set(leaf.id, next);
  }
  return edges;
}

function reachableFrom(start: string, edges: Map<string, Set<string>>): Set<string> {
  const seen = new Set<string>();
  const stack = [...(edges.get(start) ?? [])];
  while (stack.length > 0) {
    const id = stack.pop() as string;
    if (seen.has(id)) continue;
    seen.add(id);
    for (const next of edges.get(id) ?? []) stack.push(next);
  }
  return seen;
}

/** Strongly connected groups of leaves (Tarjan); a group of one counts only with a self-loop. */
function findCycles(ids: string[], edges: Map<string, Set<string>>): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const cycles: string[][] = [];

  const visit = (id: string): void => {
    index.set(id, counter);
    low.set(id, counter);
    counter += 1;
    stack.push(id);
    onStack.add(id);
    for (const next of edges.get(id) ?? []) {
      if (!index.has(next)) {
        visit(next);
        low.set(id, Math.min(low.get(id) as number, low.get(next) as number));
      } else if (onStack.has(next)) {
        low.set(id, Math.min(low.get(id) as number, index.get(next) as number));
      }
    }
    if (low.get(id) === index.get(id)) {
      const group: string[] = [];
      let member: string;
      do {
        member = stack.pop() as string;
        onStack.delete(member);
        group.push(member);
      } while (member !== id);
      if (group.length > 1 || edges.get(id)?.has(id)) cycles.push(group.reverse());
    }
  };
  for (const id of ids) if (!index.has(id)) visit(id);
  return cycles;
}

/** The ids of the leaf states a state value names (several for parallel states). */
export function activeLeafIds(machine: AnyStateMachine, value: StateValue): string[] {
  const walk = (node: AnyStateNode, sub: StateValue): string[] => {
    if (typeof sub === 'string') {
      const child = node.states[sub];
      return child ? (isLeaf(child) ? [child.id] : enteredLeaves(child).map((leaf) => leaf.id)) : [];
    }
    return Object.entries(sub).flatMap(([key, inner]) => {
      const child = node.states[key];
      return child ? walk(child, inner) : [];
    });
  };
  return walk(machine.root, value);
}
