// Recently opened and saved sessions: most recent first, at most ten, kept in the user-data folder
// (and told to the OS, for its own recent-documents lists).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../core/session/store.js';

const MAX = 10;

export class RecentSessions {
  private readonly file: string;
  private list: string[];

  constructor(userData: string) {
    this.file = join(userData, 'recent-sessions.json');
    try {
      const parsed = JSON.parse(readFileSync(this.file, 'utf8')) as unknown;
      this.list = Array.isArray(parsed) ? parsed.filter((p): p is string => typeof p === 'string') : [];
    } catch {
      this.list = [];
    }
  }

  /** The sessions that still exist. */
  get paths(): string[] {
    return this.list.filter((p) => existsSync(p));
  }

  add(path: string): void {
    this.list = [path, ...this.list.filter((p) => p !== path)].slice(0, MAX);
    writeFileAtomic(this.file, JSON.stringify(this.list));
  }

  clear(): void {
    this.list = [];
    writeFileAtomic(this.file, '[]');
  }
}
