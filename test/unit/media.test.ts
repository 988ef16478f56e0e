// ffmpeg/ffprobe resolution and channel layouts.
import { afterEach, describe, expect, it } from 'vitest';
import { channelLayoutFor } from '../../main/core/media/layouts.js';
import { resolveTool } from '../../main/core/media/tools.js';
import { LatheError } from '../../main/core/errors.js';

const saved = { ...process.env };
afterEach(() => {
  process.env = { ...saved };
});

describe('resolving ffmpeg', () => {
  it('uses the npm-installed binary by default', () => {
    delete process.env.LATHE_FFMPEG;
    const tool = resolveTool('ffmpeg');
    expect(['npm-installer', 'ffmpeg-static', 'PATH']).toContain(tool.source);
    expect(tool.path).toMatch(/ffmpeg/);
  });

  it('prefers LATHE_FFMPEG, and refuses a LATHE_FFMPEG that is not executable', () => {
    const real = resolveTool('ffmpeg').path;
    process.env.LATHE_FFMPEG = real;
    expect(resolveTool('ffmpeg')).toMatchObject({ source: 'environment', path: real });
    process.env.LATHE_FFMPEG = '/nonexistent/ffmpeg';
    expect(() => resolveTool('ffmpeg')).toThrow(LatheError);
    expect(() => resolveTool('ffmpeg')).toThrow(/LATHE_FFMPEG=\/nonexistent\/ffmpeg is not an executable file/);
  });
});

describe('channel layouts', () => {
  it('names the channels of the layouts ffprobe reports', () => {
    expect(channelLayoutFor('stereo', 2).channelNames).toEqual(['FL', 'FR']);
    expect(channelLayoutFor('5.1(side)', 6).channelNames).toEqual(['FL', 'FR', 'FC', 'LFE', 'SL', 'SR']);
    expect(channelLayoutFor('FL+FR+LFE', 3).channelNames).toEqual(['FL', 'FR', 'LFE']);
  });

  it('falls back to ffmpeg’s default for the channel count, and says so', () => {
    expect(channelLayoutFor(undefined, 6)).toEqual({ name: '5.1(side)', channelNames: ['FL', 'FR', 'FC', 'LFE', 'SL', 'SR'], assumed: true });
    expect(channelLayoutFor('stereo', 3).assumed).toBe(true);
    expect(channelLayoutFor(undefined, 12).channelNames).toHaveLength(12);
  });
});
