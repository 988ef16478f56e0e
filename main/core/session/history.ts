// Undo and redo of chain edits. Every change to the chain goes through `apply`; a run of edits
// with the same coalesce key (one knob being dragged) is one step, so undo takes back the gesture,
// not each pixel of it.
import type { ChainDocument } from '../chain/document.js';

const MAX_STEPS = 200;

export class ChainHistory {
  private undoStack: ChainDocument[];
  private redoStack: ChainDocument[];
  private lastKey: string | undefined;

  constructor(
    private current: ChainDocument,
    stacks: { undo: ChainDocument[]; redo: ChainDocument[] } = { undo: [], redo: [] },
  ) {
    this.undoStack = [...stacks.undo];
    this.redoStack = [...stacks.redo];
  }

  get chain(): ChainDocument {
    return this.current;
  }
  get canUndo(): boolean {
    return this.undoStack.length > 0;
  }
  get canRedo(): boolean {
    return this.redoStack.length > 0;
  }
  get stacks(): { undo: ChainDocument[]; redo: ChainDocument[] } {
    return { undo: [...this.undoStack], redo: [...this.redoStack] };
  }

  /** Makes `chain` current; returns false when it equals the current chain (nothing to undo). */
  apply(chain: ChainDocument, coalesceKey?: string): boolean {
    if (JSON.stringify(chain) === JSON.stringify(this.current)) return false;
    const coalesce = coalesceKey !== undefined && coalesceKey === this.lastKey && this.undoStack.length > 0;
    if (!coalesce) {
      this.undoStack.push(this.current);
      if (this.undoStack.length > MAX_STEPS) this.undoStack.shift();
    }
    this.current = chain;
    this.redoStack = [];
    this.lastKey = coalesceKey;
    return true;
  }

  undo(): boolean {
    const previous = this.undoStack.pop();
    if (!previous) return false;
    this.redoStack.push(this.current);
    this.current = previous;
    this.lastKey = undefined;
    return true;
  }

  redo(): boolean {
    const next = this.redoStack.pop();
    if (!next) return false;
    this.undoStack.push(this.current);
    this.current = next;
    this.lastKey = undefined;
    return true;
  }
}
