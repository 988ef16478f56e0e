// ffmpeg's standard channel layouts (as `ffmpeg -layouts` lists them), so each decoded channel
// gets its name and, from it, its BS.1770 weight. Unknown layouts fall back to ffmpeg's default
// layout for the channel count.

const STANDARD_LAYOUTS: Record<string, string> = {
  mono: 'FC',
  stereo: 'FL+FR',
  '2.1': 'FL+FR+LFE',
  '3.0': 'FL+FR+FC',
  '3.0(back)': 'FL+FR+BC',
  '4.0': 'FL+FR+FC+BC',
  quad: 'FL+FR+BL+BR',
  'quad(side)': 'FL+FR+SL+SR',
  '3.1': 'FL+FR+FC+LFE',
  '5.0': 'FL+FR+FC+BL+BR',
  '5.0(side)': 'FL+FR+FC+SL+SR',
  '4.1': 'FL+FR+FC+LFE+BC',
  '5.1': 'FL+FR+FC+LFE+BL+BR',
  '5.1(side)': 'FL+FR+FC+LFE+SL+SR',
  '6.0': 'FL+FR+FC+BC+SL+SR',
  '6.0(front)': 'FL+FR+FLC+FRC+SL+SR',
  hexagonal: 'FL+FR+FC+BL+BR+BC',
  '6.1': 'FL+FR+FC+LFE+BC+SL+SR',
  '6.1(back)': 'FL+FR+FC+LFE+BL+BR+BC',
  '6.1(front)': 'FL+FR+LFE+FLC+FRC+SL+SR',
  '7.0': 'FL+FR+FC+BL+BR+SL+SR',
  '7.0(front)': 'FL+FR+FC+FLC+FRC+SL+SR',
  '7.1': 'FL+FR+FC+LFE+BL+BR+SL+SR',
  '7.1(wide)': 'FL+FR+FC+LFE+BL+BR+FLC+FRC',
  '7.1(wide-side)': 'FL+FR+FC+LFE+FLC+FRC+SL+SR',
  '7.1(top)': 'FL+FR+FC+LFE+BL+BR+TFL+TFR',
  octagonal: 'FL+FR+FC+BL+BR+BC+SL+SR',
  cube: 'FL+FR+BL+BR+TFL+TFR+TBL+TBR',
  downmix: 'DL+DR',
};

/** ffmpeg's default layout for a channel count (av_channel_layout_default). */
const DEFAULT_FOR_COUNT: Record<number, string> = {
  1: 'mono',
  2: 'stereo',
  3: '2.1',
  4: '4.0',
  5: '5.0(side)',
  6: '5.1(side)',
  7: '6.1',
  8: '7.1',
};

export interface ChannelLayout {
  /** The layout's name as ffmpeg reports it, or a description of how it was chosen. */
  name: string;
  channelNames: string[];
  /** True when the file did not say and the layout was assumed from the channel count. */
  assumed: boolean;
}

export function channelLayoutFor(layout: string | undefined, channels: number): ChannelLayout {
  const known = layout ? STANDARD_LAYOUTS[layout] : undefined;
  if (known && known.split('+').length === channels) {
    return { name: layout!, channelNames: known.split('+'), assumed: false };
  }
  // Layouts given as a list ("FL+FR+LFE") by newer ffprobe versions.
  if (layout && /^[A-Z0-9]+(\+[A-Z0-9]+)*$/.test(layout) && layout.split('+').length === channels) {
    return { name: layout, channelNames: layout.split('+'), assumed: false };
  }
  const fallback = DEFAULT_FOR_COUNT[channels];
  if (fallback) {
    return { name: fallback, channelNames: STANDARD_LAYOUTS[fallback]!.split('+'), assumed: true };
  }
  // Beyond 7.1 with no layout: treat every channel as a front channel of weight 1.0.
  return {
    name: `${channels} channels`,
    channelNames: Array.from({ length: channels }, (_, i) => `C${i + 1}`),
    assumed: true,
  };
}
