import '@testing-library/jest-dom/vitest';

// jsdom has no canvas: the plots draw nothing there (and say nothing about it).
HTMLCanvasElement.prototype.getContext = (() => null) as never;

// jsdom has no layout either: bind:clientWidth needs a ResizeObserver that never fires.
globalThis.ResizeObserver ??= class {
  observe() {}
  unobserve() {}
  disconnect() {}
} as never;
