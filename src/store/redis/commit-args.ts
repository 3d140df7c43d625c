/**
 * One decision's arguments for commitBatch.lua (its header comment is the contract): a header of
 * numbers only, the index member, then only the strings that changed. Built without intermediate
 * arrays or JSON-encoded header strings: this runs once per decision, and the strings it builds
 * and sends were a measured share of the store's cost (docs/redis-store.md, "Performance").
 */
import type { HistoryEntry } from '../../core/history.ts';
import type { EntityCommit, EntityRef } from '../entity-store.ts';
import { deadLetterJson, timeMarkJson, toJson } from './codec.ts';
import { historyEntryJson } from './history-codec.ts';
import { bufferField, versionField } from './keys.ts';

/** What of the store's configuration the arguments depend on. */
export interface CommitArgsSettings {
  /** Applied-transition rows go with the commit (for the outbox, the effects stream or both). */
  readonly sendApplied: boolean;
  readonly historyLimit: number;
  readonly finalEntityTtlMs: number;
}

/** The header's modes (see lua/commitBatch.lua): leave as is, set, clear. */
const KEEP = 0;
const SET = 1;
const CLEAR = 2;

/** Serialises one decision; throws UnserializableValueError for a value that cannot be JSON. */
export function commitArgs(
  settings: CommitArgsSettings,
  member: string,
  ref: EntityRef,
  commit: EntityCommit,
): string[] {
  const { entity } = commit;
  const parkedMode = commit.parkedChanged ? (entity.parked ? SET : CLEAR) : KEEP;
  const bufferChanged = commit.bufferAdded.length > 0 || commit.bufferRemoved.length > 0;
  const stalledMode = !bufferChanged ? KEEP : commit.oldestBufferedAt === undefined ? CLEAR : SET;
  const expiry =
    settings.finalEntityTtlMs > 0 && commit.final
      ? entity.buffer.length === 0 && !entity.parked
        ? settings.finalEntityTtlMs
        : -1
      : 0;
  const outboxRows = settings.sendApplied ? commit.applied.length : 0;
  const historyEntries = settings.historyLimit > 0 ? commit.history.length : 0;
  const heldMode = commit.heldChanged ? (entity.held ? SET : CLEAR) : KEEP;
  const machineVersion = commit.machineVersion ?? '';
  const snapshot = commit.snapshot;
  const seen = commit.seenAdded.length > 0;
  const lastTime = entity.lastTime;
  const stamp = machineVersion !== '';
  const header =
    `[${commit.expectedVersion},${entity.lastSeq},${parkedMode},${parkedMode === SET ? number(entity.parked?.parkedAt) : 0},` +
    `${stalledMode},${stalledMode === SET ? number(commit.oldestBufferedAt) : 0},${expiry},` +
    `${commit.bufferAdded.length},${commit.bufferRemoved.length},${outboxRows},${commit.deadLetters.length},${historyEntries},` +
    `${heldMode},${heldMode === SET ? number(entity.held?.since) : 0},${stamp ? number(commit.committedAt) : 0},` +
    `${snapshot === undefined ? 0 : 1},${seen ? 1 : 0},${lastTime === undefined ? 0 : 1},${stamp ? 1 : 0}]`;
  const args = [header, member];
  if (snapshot !== undefined) args.push(toJson(snapshot(), 'machine snapshot'));
  if (seen) args.push(toJson(entity.seenIds, 'seen ids'));
  if (parkedMode === SET) args.push(toJson(entity.parked, 'parked event'));
  if (lastTime !== undefined) args.push(timeMarkJson(lastTime));
  if (heldMode === SET) args.push(toJson(entity.held, 'held mark'));
  if (stamp) args.push(machineVersion, versionField(ref.aggregate, machineVersion));
  for (const entry of commit.bufferAdded)
    args.push(bufferField(entry.event.id), toJson(entry, 'buffered event'));
  for (const id of commit.bufferRemoved) args.push(bufferField(id));
  for (let i = 0; i < outboxRows; i += 1) args.push(toJson(commit.applied[i], 'applied transition'));
  for (const letter of commit.deadLetters) args.push(deadLetterJson(letter));
  for (let i = 0; i < historyEntries; i += 1) args.push(historyEntryJson(commit.history[i] as HistoryEntry));
  return args;
}

/** A time for the numbers-only header: anything but a finite number is sent as 0. */
function number(value: number | undefined): number {
  return value !== undefined && Number.isFinite(value) ? value : 0;
}
