// The knob: an accessible slider driven by the keyboard (a step, ten steps, the ends) and reset
// by a double-click; frequencies move along the log scale.
import { describe, expect, it } from 'vitest';
import { fireEvent, render, screen } from '@testing-library/svelte';
import Knob from '../src/components/Knob.svelte';
import { paramByPath } from '../src/lib/parameters.js';

function knob(path: string, value: number, reset?: number) {
  const changes: number[] = [];
  render(Knob, { props: { def: paramByPath.get(path)!, value, label: 'the knob', ...(reset !== undefined ? { reset } : {}), onchange: (v: number) => changes.push(v) } });
  return { changes, el: screen.getByRole('slider', { name: 'the knob' }) };
}

describe('Knob', () => {
  it('is a slider with its value, range and unit', () => {
    const { el } = knob('eq.peaks[1].gainDb', 2.5);
    expect(el).toHaveAttribute('aria-valuenow', '2.5');
    expect(el).toHaveAttribute('aria-valuemin', '-24');
    expect(el).toHaveAttribute('aria-valuemax', '24');
    expect(el).toHaveAttribute('aria-valuetext', '2.5 dB');
  });

  it('steps with the keys and resets with a double-click', async () => {
    const { el, changes } = knob('eq.peaks[1].gainDb', 2.5, 0);
    await fireEvent.keyDown(el, { key: 'ArrowUp' });
    await fireEvent.keyDown(el, { key: 'PageDown' });
    await fireEvent.keyDown(el, { key: 'Home' });
    await fireEvent.keyDown(el, { key: 'End' });
    await fireEvent.dblClick(el);
    expect(changes).toEqual([2.6, 1.5, -24, 24, 0]);
  });

  it('moves a frequency by a share of its log range', async () => {
    const { el, changes } = knob('eq.highPass.freqHz', 100);
    await fireEvent.keyDown(el, { key: 'PageUp' });
    // Ten steps of 1/200 of log(24000/10): ×(2400)^(1/20) ≈ ×1.476.
    expect(changes[0]).toBe(Math.round(100 * 2400 ** (1 / 20)));
  });
});
