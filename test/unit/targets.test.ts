// Delivery targets and style profiles: the shipped data loads and says what the platforms'
// published guidance says, the validators reject bad documents with the field path, and the
// helpers (ceilingFor, parseTargetList, getTarget) behave as the engine relies on.
import { describe, expect, it } from 'vitest';
import targetsJson from '../../main/core/delivery/data/targets.json' with { type: 'json' };
import profilesJson from '../../main/core/delivery/data/profiles.json' with { type: 'json' };
import {
  ceilingFor,
  DeliveryDataError,
  getProfile,
  getTarget,
  listProfiles,
  listTargets,
  parseTargetList,
  resolveIntegratedLufs,
  validateProfilesDocument,
  validateTargetsDocument,
  type DeliveryTarget,
} from '../../main/core/delivery/targets.js';
import { LatheError } from '../../main/core/errors.js';

/** A fresh, editable copy of the shipped targets document. */
function targetsDoc(): { schema: string; version: number; targets: Record<string, unknown>[] } {
  return structuredClone(targetsJson) as unknown as { schema: string; version: number; targets: Record<string, unknown>[] };
}

function profilesDoc(): { schema: string; version: number; profiles: Record<string, unknown>[] } {
  return structuredClone(profilesJson) as unknown as { schema: string; version: number; profiles: Record<string, unknown>[] };
}

/** The issues a validator reports for a document (fails the test if it accepts it). */
function issuesOf(validate: (doc: unknown) => unknown, doc: unknown): readonly string[] {
  try {
    validate(doc);
  } catch (e) {
    expect(e).toBeInstanceOf(DeliveryDataError);
    return (e as DeliveryDataError).issues;
  }
  throw new Error('the validator accepted a bad document');
}

describe('the shipped targets', () => {
  it('load and validate, with unique ids', () => {
    const targets = listTargets();
    expect(targets.length).toBeGreaterThanOrEqual(12);
    expect(() => validateTargetsDocument(targetsJson)).not.toThrow();
    const ids = targets.map((t) => t.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ['spotify', 'apple-music', 'youtube', 'tidal', 'amazon-music', 'deezer', 'bandcamp', 'soundcloud', 'ebu-r128', 'atsc-a85', 'podcast', 'cd']) {
      expect(ids).toContain(id);
    }
  });

  it('each cite at least one source with an https URL', () => {
    for (const t of listTargets()) {
      expect(t.sources.some((s) => s.url.startsWith('https://')), t.id).toBe(true);
      for (const s of t.sources) expect(s.title.trim(), t.id).not.toBe('');
    }
  });

  it('are frozen, so no caller can change the shared data', () => {
    const spotify = getTarget('spotify');
    expect(Object.isFrozen(spotify)).toBe(true);
    expect(() => {
      (spotify as { integratedLufs: number | null }).integratedLufs = -8;
    }).toThrow(TypeError);
  });

  it('Spotify: -14 LUFS, -1 dBTP, -2 dBTP when louder than -14, Vorbis and AAC checks', () => {
    const t = getTarget('spotify');
    expect(t).toMatchObject({ integratedLufs: -14, truePeakCeilingDbtp: -1, truePeakCeilingWhenLouderDbtp: -2, louderThanLufs: -14, normalization: 'up-and-down' });
    expect(t.codecChecks.map((k) => k.codec)).toEqual(expect.arrayContaining(['libvorbis', 'aac']));
  });

  it('Apple Music: -16 LUFS, -1 dBTP, AAC 256 kbps check', () => {
    const t = getTarget('apple-music');
    expect(t).toMatchObject({ integratedLufs: -16, truePeakCeilingDbtp: -1 });
    expect(t.codecChecks).toContainEqual(expect.objectContaining({ codec: 'aac', bitrateKbps: 256, container: 'm4a' }));
  });

  it('YouTube: -14 LUFS, -1 dBTP, Opus and AAC checks, turns loud masters down only', () => {
    const t = getTarget('youtube');
    expect(t).toMatchObject({ integratedLufs: -14, truePeakCeilingDbtp: -1, normalization: 'down-only' });
    expect(t.codecChecks.map((k) => k.codec)).toEqual(expect.arrayContaining(['libopus', 'aac']));
  });

  it('EBU R 128: -23 LUFS within the 2020 QC tolerance of 0.2 LU, -1 dBTP, 48 kHz 24-bit WAV, LRA reported', () => {
    expect(getTarget('ebu-r128')).toMatchObject({
      integratedLufs: -23,
      toleranceLu: 0.2,
      truePeakCeilingDbtp: -1,
      sampleRateHz: 48000,
      bitDepth: 24,
      measureLoudnessRange: true,
      deliverable: { container: 'wav', codec: 'pcm_s24le', bitrateKbps: null },
    });
  });

  it('ATSC A/85: -24 LKFS, -2 dBTP, 48 kHz', () => {
    expect(getTarget('atsc-a85')).toMatchObject({ integratedLufs: -24, truePeakCeilingDbtp: -2, sampleRateHz: 48000 });
  });

  it('podcast: -16 LUFS stereo, -19 mono, -1 dBTP, MP3', () => {
    const t = getTarget('podcast');
    expect(t).toMatchObject({ integratedLufs: -16, monoIntegratedLufs: -19, truePeakCeilingDbtp: -1, bitDepth: null });
    expect(t.deliverable).toMatchObject({ container: 'mp3', codec: 'libmp3lame' });
    expect(resolveIntegratedLufs(t)).toBe(-16);
    expect(resolveIntegratedLufs(t, { mono: true })).toBe(-19);
  });

  it('CD: 16-bit 44.1 kHz dithered WAV at -0.3 dBTP, loudness from the style profile', () => {
    const t = getTarget('cd');
    expect(t).toMatchObject({ integratedLufs: null, sampleRateHz: 44100, bitDepth: 16, dither: true, truePeakCeilingDbtp: -0.3, normalization: 'none' });
    expect(t.deliverable).toMatchObject({ container: 'wav', codec: 'pcm_s16le' });
    expect(resolveIntegratedLufs(t, { profile: getProfile('classical') })).toBe(getProfile('classical').integratedLufs.typical);
    expect(resolveIntegratedLufs(t)).toBe(t.fallbackIntegratedLufs);
    expect(t.fallbackIntegratedLufs).toBe(-10);
  });
});

describe('the shipped style profiles', () => {
  it('load and validate, with unique ids and sensible ranges', () => {
    const profiles = listProfiles();
    expect(() => validateProfilesDocument(profilesJson)).not.toThrow();
    const ids = profiles.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ['electronic', 'hip-hop', 'pop', 'rock', 'metal', 'classical', 'jazz-acoustic', 'speech', 'film-ambient']) expect(ids).toContain(id);
    for (const p of profiles) {
      expect(p.integratedLufs.min, p.id).toBeLessThanOrEqual(p.integratedLufs.typical);
      expect(p.integratedLufs.typical, p.id).toBeLessThanOrEqual(p.integratedLufs.max);
      expect(p.notes, p.id).not.toBe('');
    }
  });

  it('lists the valid ids when asked for an unknown one', () => {
    expect(() => getProfile('polka')).toThrow(/unknown style profile "polka"; valid profiles: electronic, hip-hop, pop/);
  });
});

describe('ceilingFor', () => {
  const spotify = getTarget('spotify');

  it('applies Spotify’s -2 dBTP only to masters louder than -14 LUFS', () => {
    expect(ceilingFor(spotify, -9)).toBe(-2);
    expect(ceilingFor(spotify, -13.9)).toBe(-2);
    expect(ceilingFor(spotify, -14)).toBe(-1);
    expect(ceilingFor(spotify, -16)).toBe(-1);
    expect(ceilingFor(spotify, -Infinity)).toBe(-1);
  });

  it('uses the ordinary ceiling for targets without a louder rule', () => {
    expect(ceilingFor(getTarget('apple-music'), -8)).toBe(-1);
    expect(ceilingFor(getTarget('cd'), -8)).toBe(-0.3);
  });

  it('refuses a loudness that is not a number', () => {
    expect(() => ceilingFor(spotify, Number.NaN)).toThrow(LatheError);
  });
});

describe('looking targets up', () => {
  it('names the unknown id and lists the valid ones', () => {
    let error: unknown;
    try {
      getTarget('napster');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(LatheError);
    expect((error as LatheError).code).toBe('USAGE');
    expect((error as Error).message).toMatch(/unknown delivery target "napster"/);
    for (const t of listTargets()) expect((error as Error).message).toContain(t.id);
  });

  it('parses a comma-separated list, ignoring case, spaces and repeats', () => {
    const ids = (list: DeliveryTarget[]) => list.map((t) => t.id);
    expect(ids(parseTargetList('spotify,ebu-r128'))).toEqual(['spotify', 'ebu-r128']);
    expect(ids(parseTargetList(' Spotify , apple-music,,spotify '))).toEqual(['spotify', 'apple-music']);
  });

  it('names every unknown id in one error, with the valid ones', () => {
    expect(() => parseTargetList('spotify,napster,zune')).toThrow(/unknown delivery targets "napster", "zune"; valid targets: spotify, apple-music/);
    expect(() => parseTargetList(' , ')).toThrow(/no delivery targets given; valid targets: spotify/);
  });
});

describe('validateTargetsDocument rejects bad documents with the field path', () => {
  it('a document that is not an object, or has the wrong schema or version', () => {
    expect(issuesOf(validateTargetsDocument, 42)).toEqual(['$: must be an object, got 42']);
    expect(issuesOf(validateTargetsDocument, [])).toEqual(['$: must be an object, got an array']);
    const doc = targetsDoc();
    doc.schema = 'lathe.profiles';
    doc.version = 2;
    const issues = issuesOf(validateTargetsDocument, doc);
    expect(issues).toContain('schema: must be "lathe.targets", got "lathe.profiles"');
    expect(issues).toContain('version: must be 1 (the version this build reads), got 2');
  });

  it('a field of the wrong type', () => {
    const doc = targetsDoc();
    doc.targets[3]!.truePeakCeilingDbtp = '-1';
    doc.targets[0]!.measureLoudnessRange = 'yes';
    doc.targets[1]!.codecChecks = { codec: 'aac' };
    const issues = issuesOf(validateTargetsDocument, doc);
    expect(issues).toContain('targets[3].truePeakCeilingDbtp: must be a number between -10 and 0, got "-1"');
    expect(issues).toContain('targets[0].measureLoudnessRange: must be true or false, got "yes"');
    expect(issues).toContain('targets[1].codecChecks: must be an array, got an object');
  });

  it('an out-of-range ceiling or loudness', () => {
    const doc = targetsDoc();
    doc.targets[3]!.truePeakCeilingDbtp = 3;
    doc.targets[2]!.integratedLufs = -60;
    doc.targets[0]!.truePeakCeilingWhenLouderDbtp = -0.5;
    const issues = issuesOf(validateTargetsDocument, doc);
    expect(issues).toContain('targets[3].truePeakCeilingDbtp: must be a number between -10 and 0, got 3');
    expect(issues).toContain('targets[2].integratedLufs: must be a number between -40 and 0 or null, got -60');
    expect(issues).toContain('targets[0].truePeakCeilingWhenLouderDbtp: must not be above truePeakCeilingDbtp (-1)');
  });

  it('a duplicate id', () => {
    const doc = targetsDoc();
    doc.targets[4]!.id = 'spotify';
    expect(issuesOf(validateTargetsDocument, doc)).toEqual(['targets[4].id: duplicates targets[0].id ("spotify")']);
  });

  it('a missing field, an unknown field, and a half-specified louder-than rule', () => {
    const doc = targetsDoc();
    delete doc.targets[5]!.toleranceLu;
    doc.targets[6]!.truePeakCeiling = -1;
    delete doc.targets[0]!.louderThanLufs;
    const issues = issuesOf(validateTargetsDocument, doc);
    expect(issues).toContain('targets[5].toleranceLu: is missing');
    expect(issues.some((i) => i.startsWith('targets[6].truePeakCeiling: is not a known field'))).toBe(true);
    expect(issues.some((i) => i.startsWith('targets[0].louderThanLufs: is required with its partner'))).toBe(true);
  });

  it('inconsistent formats and codec checks', () => {
    const doc = targetsDoc();
    const cd = doc.targets.findIndex((t) => t.id === 'cd');
    const apple = doc.targets.findIndex((t) => t.id === 'apple-music');
    const podcast = doc.targets.findIndex((t) => t.id === 'podcast');
    doc.targets[cd]!.bitDepth = 24; // the deliverable is pcm_s16le
    (doc.targets[apple]!.codecChecks as Record<string, unknown>[])[0]!.container = 'mp3';
    (doc.targets[podcast]!.deliverable as Record<string, unknown>).bitrateKbps = null;
    const issues = issuesOf(validateTargetsDocument, doc);
    expect(issues).toContain(`targets[${cd}].bitDepth: must match the deliverable codec pcm_s16le (16)`);
    expect(issues).toContain(`targets[${apple}].codecChecks[0].container: must be one of m4a for aac, got "mp3"`);
    expect(issues).toContain(`targets[${podcast}].deliverable.bitrateKbps: must be a number for the lossy codec libmp3lame`);
  });

  it('a target without an https source, and a null loudness without a fallback', () => {
    const doc = targetsDoc();
    doc.targets[0]!.sources = [{ title: 'somewhere', url: 'http://example.com/page' }];
    const cd = doc.targets.findIndex((t) => t.id === 'cd');
    delete doc.targets[cd]!.fallbackIntegratedLufs;
    const issues = issuesOf(validateTargetsDocument, doc);
    expect(issues).toContain('targets[0].sources: must include at least one source with an https URL');
    expect(issues.some((i) => i.startsWith(`targets[${cd}].fallbackIntegratedLufs: is required when integratedLufs is null`))).toBe(true);
  });

  it('reports every problem at once and puts them in the message', () => {
    const doc = targetsDoc();
    doc.targets[3]!.truePeakCeilingDbtp = 3;
    doc.targets[7]!.normalization = 'sometimes';
    let message = '';
    try {
      validateTargetsDocument(doc, 'my-targets.json');
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/^my-targets\.json is invalid:/);
    expect(message).toContain('targets[3].truePeakCeilingDbtp: must be a number between -10 and 0, got 3');
    expect(message).toContain('targets[7].normalization: must be one of "down-only", "up-and-down", "none", got "sometimes"');
  });

  it('does not freeze or change the document it is given', () => {
    const doc = targetsDoc();
    const copy = validateTargetsDocument(doc);
    expect(copy).toEqual(doc);
    expect(copy).not.toBe(doc);
    expect(Object.isFrozen(doc.targets[0])).toBe(false);
  });
});

describe('validateProfilesDocument rejects bad documents with the field path', () => {
  it('an unordered loudness range, a wrong tilt, a duplicate id and a missing field', () => {
    const doc = profilesDoc();
    doc.profiles[0]!.integratedLufs = { min: -6, typical: -8, max: -10 };
    (doc.profiles[1]!.chainTendencies as Record<string, unknown>).tonalTilt = 'dark';
    doc.profiles[2]!.id = 'electronic';
    delete doc.profiles[3]!.crestFactorDb;
    const issues = issuesOf(validateProfilesDocument, doc);
    expect(issues).toContain('profiles[0].integratedLufs: must satisfy min <= typical <= max, got -6, -8, -10');
    expect(issues).toContain('profiles[1].chainTendencies.tonalTilt: must be one of "bright", "neutral", "warm", got "dark"');
    expect(issues).toContain('profiles[2].id: duplicates profiles[0].id ("electronic")');
    expect(issues).toContain('profiles[3].crestFactorDb: is missing');
  });
});
