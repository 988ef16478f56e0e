// The playback state without audio hardware (the graph is built on first play where Web Audio
// exists): selection, level matching, blind mode, loop and seeking.
import { describe, expect, it } from 'vitest';
import { PlaybackState } from '../src/state/playback.svelte.js';

describe('PlaybackState', () => {
  it('selects sources; the reference only once there is one', () => {
    const p = new PlaybackState({ audio: null });
    expect(p.selected).toBe('B');
    p.select('A');
    expect(p.selected).toBe('A');
    p.select('R');
    expect(p.selected).toBe('A');
    p.setMeasurement('R', -10, -1);
    p.select('R');
    expect(p.selected).toBe('R');
  });

  it('gives level-matched gains, and none with matching off', () => {
    const p = new PlaybackState({ audio: null });
    p.setMeasurement('A', -21, -4);
    p.setMeasurement('B', -13, -1);
    expect(p.gainsDb).toEqual({ A: 0, B: -8, R: 0 });
    p.setLevelMatch(false);
    expect(p.gainsDb).toEqual({ A: 0, B: 0, R: 0 });
  });

  it('hears a platform: its normalisation replaces matching', () => {
    const p = new PlaybackState({ audio: null });
    p.setMeasurement('A', -21, -4);
    p.setMeasurement('B', -9, -1);
    p.setPlatform({ id: 'spotify', name: 'Spotify', integratedLufs: -14, truePeakCeilingDbtp: -1 });
    expect(p.gainsDb.B).toBeCloseTo(-5, 10);
    expect(p.gainsDb.A).toBeCloseTo(3, 10); // +7 wanted, 3 dB of headroom to −1 dBTP
  });

  it('runs a blind test: X and Y hide A and B, the pick is revealed', () => {
    const p = new PlaybackState({ audio: null });
    p.startBlind(() => 0.9);
    expect(p.blind?.order).toEqual(['B', 'A']);
    p.selectBlind(1);
    expect(p.selected).toBe('A');
    p.pickBlind(0);
    expect(p.blind?.revealed).toBe(false);
    p.revealBlind();
    expect(p.blind).toMatchObject({ pick: 0, revealed: true });
    p.endBlind();
    expect(p.blind).toBeNull();
  });

  it('seeks within the track and reports the playhead; loops only a real region', () => {
    const heads: number[] = [];
    const p = new PlaybackState({ audio: null, onPlayhead: (s) => heads.push(s) });
    p.setDuration(30);
    p.seek(42);
    expect(p.position).toBe(30);
    p.seek(-3);
    expect(p.position).toBe(0);
    expect(heads).toEqual([30, 0]);
    p.setLoop({ start: 10, end: 10.05 });
    expect(p.loop).toBeNull();
    p.setLoop({ start: 26, end: 34 });
    expect(p.loop).toEqual({ start: 26, end: 30 });
  });
});
