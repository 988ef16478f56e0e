// Playback: a Web Audio transport that plays the original (A), the processed preview (B) and a
// reference (R) in sync, switching between them instantly with loudness-compensated gains.
// The audio graph is created lazily (first play), so this class also works where there is no
// audio (component tests), keeping the same state.
import { dbToGain, matchedGains, platformGain, type Normalization, type Source } from './levels.js';

export interface Region {
  buffer: AudioBuffer;
  /** Where the buffer starts on the track's timeline (a preview window starts mid-track). */
  startSeconds: number;
}

export interface Platform {
  id: string;
  name: string;
  integratedLufs: number | null;
  truePeakCeilingDbtp: number;
  normalization?: Normalization;
}

type AudioFactory = () => AudioContext;

export class PlaybackState {
  #playing = $state(false);
  #position = $state(0);
  #duration = $state(0);
  #selected = $state<Source>('B');
  #levelMatch = $state(true);
  #loudness = $state.raw<Record<Source, number | null>>({ A: null, B: null, R: null });
  #truePeak = $state.raw<Record<Source, number | null>>({ A: null, B: null, R: null });
  #available = $state.raw<Record<Source, boolean>>({ A: false, B: false, R: false });
  #loop = $state.raw<{ start: number; end: number } | null>(null);
  #platform = $state.raw<Platform | null>(null);
  #blind = $state.raw<{ order: [Source, Source]; pick: number | null; revealed: boolean } | null>(null);

  #regions: Record<Source, Region | null> = { A: null, B: null, R: null };
  #ctx: AudioContext | null = null;
  #gains: Partial<Record<Source, GainNode>> = {};
  #nodes: Partial<Record<Source, AudioBufferSourceNode>> = {};
  #startedAt = 0;
  #offset = 0;
  #raf = 0;
  readonly #audio: AudioFactory | null;
  readonly #onPlayhead: (seconds: number) => void;

  constructor(options: { audio?: AudioFactory | null; onPlayhead?: (seconds: number) => void } = {}) {
    this.#audio = options.audio === undefined ? (typeof AudioContext === 'function' ? () => new AudioContext() : null) : options.audio;
    this.#onPlayhead = options.onPlayhead ?? (() => undefined);
  }

  get playing() { return this.#playing; }
  get position() { return this.#position; }
  get duration() { return this.#duration; }
  get selected() { return this.#selected; }
  get levelMatch() { return this.#levelMatch; }
  get loudness() { return this.#loudness; }
  get available() { return this.#available; }
  get loop() { return this.#loop; }
  get platform() { return this.#platform; }
  get blind() { return this.#blind; }

  /** The gain (dB) each source plays with now: level matching, then the platform's normalisation. */
  get gainsDb(): Record<Source, number> {
    const base = this.#levelMatch ? matchedGains(this.#loudness) : { A: 0, B: 0, R: 0 };
    const p = this.#platform;
    if (!p) return base;
    const out = { ...base };
    for (const s of ['A', 'B', 'R'] as Source[]) {
      // Heard as a platform: each source as that platform would play it (its own normalisation replaces matching).
      out[s] = platformGain(this.#loudness[s], this.#truePeak[s], p.integratedLufs, p.truePeakCeilingDbtp, p.normalization);
    }
    return out;
  }

  /** Audio and measurements of a source; `null` removes it. */
  setSource(source: Source, region: Region | null, measured?: { lufs: number | null; truePeakDbtp: number | null }): void {
    this.#regions[source] = region;
    this.#available = { ...this.#available, [source]: region !== null };
    if (measured) this.setMeasurement(source, measured.lufs, measured.truePeakDbtp);
    if (source === 'A' && region) this.#duration = region.startSeconds + region.buffer.duration;
    if (this.#playing && this.#ctx) this.#restartSource(source);
  }

  setMeasurement(source: Source, lufs: number | null, truePeakDbtp: number | null): void {
    this.#loudness = { ...this.#loudness, [source]: lufs };
    this.#truePeak = { ...this.#truePeak, [source]: truePeakDbtp };
    this.#applyGains();
  }

  setDuration(seconds: number): void {
    this.#duration = seconds;
  }

  select(source: Source): void {
    if (source === 'R' && !this.#available.R && this.#loudness.R === null) return;
    this.#selected = source;
    this.#applyGains();
  }

  setLevelMatch(on: boolean): void {
    this.#levelMatch = on;
    this.#applyGains();
  }

  setPlatform(platform: Platform | null): void {
    this.#platform = platform;
    this.#applyGains();
  }

  /** Loops the region [start, end) (seconds), or stops looping with null. */
  setLoop(loop: { start: number; end: number } | null): void {
    this.#loop = loop && loop.end - loop.start >= 0.1 ? { start: Math.max(0, loop.start), end: Math.min(this.#duration || loop.end, loop.end) } : null;
  }

  /** Blind mode: A and B behind the labels X and Y in a random order. */
  startBlind(random: () => number = Math.random): void {
    const order: [Source, Source] = random() < 0.5 ? ['A', 'B'] : ['B', 'A'];
    this.#blind = { order, pick: null, revealed: false };
    this.select(order[0]);
  }

  selectBlind(index: 0 | 1): void {
    if (this.#blind) this.select(this.#blind.order[index]);
  }

  pickBlind(index: 0 | 1): void {
    if (this.#blind) this.#blind = { ...this.#blind, pick: index };
  }

  revealBlind(): void {
    if (this.#blind) this.#blind = { ...this.#blind, revealed: true };
  }

  endBlind(): void {
    this.#blind = null;
  }

  async toggle(): Promise<void> {
    if (this.#playing) this.pause();
    else await this.play();
  }

  async play(): Promise<void> {
    if (this.#playing) return;
    if (this.#loop && (this.#position < this.#loop.start || this.#position >= this.#loop.end)) this.#position = this.#loop.start;
    if (this.#duration && this.#position >= this.#duration) this.#position = 0;
    this.#playing = true;
    const ctx = this.#context();
    if (!ctx) return;
    if (ctx.state === 'suspended') await ctx.resume().catch(() => undefined);
    this.#startAll(this.#position);
    const tick = () => {
      if (!this.#playing || !this.#ctx) return;
      const t = this.#offset + (this.#ctx.currentTime - this.#startedAt);
      if (this.#loop && t >= this.#loop.end) {
        this.#startAll(this.#loop.start);
      } else if (this.#duration && t >= this.#duration) {
        this.pause();
        this.#position = this.#duration;
        return;
      } else {
        this.#position = t;
      }
      this.#raf = requestAnimationFrame(tick);
    };
    this.#raf = requestAnimationFrame(tick);
  }

  pause(): void {
    if (!this.#playing) return;
    this.#playing = false;
    cancelAnimationFrame(this.#raf);
    if (this.#ctx) this.#position = Math.min(this.#duration || Infinity, this.#offset + (this.#ctx.currentTime - this.#startedAt));
    this.#stopAll();
    this.#onPlayhead(this.#position);
  }

  seek(seconds: number): void {
    const t = Math.max(0, Math.min(this.#duration || seconds, seconds));
    this.#position = t;
    if (this.#playing && this.#ctx) this.#startAll(t);
    this.#onPlayhead(t);
  }

  dispose(): void {
    this.pause();
    void this.#ctx?.close().catch(() => undefined);
    this.#ctx = null;
  }

  // ------------------------------------------------------------------ the audio graph

  #context(): AudioContext | null {
    if (this.#ctx || !this.#audio) return this.#ctx;
    const ctx = this.#audio();
    for (const s of ['A', 'B', 'R'] as Source[]) {
      const g = ctx.createGain();
      g.gain.value = 0;
      g.connect(ctx.destination);
      this.#gains[s] = g;
    }
    this.#ctx = ctx;
    this.#applyGains();
    return ctx;
  }

  #applyGains(): void {
    const ctx = this.#ctx;
    if (!ctx) return;
    const db = this.gainsDb;
    for (const s of ['A', 'B', 'R'] as Source[]) {
      const target = s === this.#selected ? dbToGain(db[s]) : 0;
      // A short glide: no click, and the switch is heard at once.
      this.#gains[s]?.gain.setTargetAtTime(target, ctx.currentTime, 0.008);
    }
  }

  #startAll(position: number): void {
    const ctx = this.#ctx!;
    this.#stopAll();
    this.#startedAt = ctx.currentTime + 0.02;
    this.#offset = position;
    this.#position = position;
    for (const s of ['A', 'B', 'R'] as Source[]) this.#startSource(s);
  }

  #startSource(s: Source): void {
    const ctx = this.#ctx!;
    const region = this.#regions[s];
    if (!region) return;
    const node = ctx.createBufferSource();
    node.buffer = region.buffer;
    node.connect(this.#gains[s]!);
    const now = this.#offset + Math.max(0, ctx.currentTime - this.#startedAt);
    const when = Math.max(this.#startedAt, ctx.currentTime);
    const into = now - region.startSeconds;
    if (into >= region.buffer.duration) return;
    if (into >= 0) node.start(when, into);
    else node.start(when - into, 0);
    this.#nodes[s] = node;
  }

  #restartSource(s: Source): void {
    try {
      this.#nodes[s]?.stop();
    } catch {
      /* never started */
    }
    this.#nodes[s]?.disconnect();
    delete this.#nodes[s];
    this.#startSource(s);
  }

  #stopAll(): void {
    for (const s of ['A', 'B', 'R'] as Source[]) {
      try {
        this.#nodes[s]?.stop();
      } catch {
        /* never started */
      }
      this.#nodes[s]?.disconnect();
      delete this.#nodes[s];
    }
  }
}
