import { describe, expect, it } from 'vitest';
import { referenceMap, sharingFeeds, type SharingOptions } from '../../src/attention';
import { InputError } from '../../src/errors';
import type { Feed } from '../../src/model/tensor';

const OPTIONS: SharingOptions = {
  shareAttention: true,
  adainQueries: true,
  adainKeys: true,
  adainValues: false,
  sharedScoreScale: 1.5,
  sharedScoreShift: Math.LN2,
  onlySelfLevel: 0,
  fullAttentionShare: false,
  shareGroupNorm: true,
  shareLayerNorm: true,
};

const values = (feed: Feed) => Array.from('ints' in feed ? feed.ints : feed.data);

describe('referenceMap', () => {
  it('maps each item to the first item of its set, in each CFG half', () => {
    expect(Array.from(referenceMap([4], true))).toEqual([0, 0, 0, 0, 4, 4, 4, 4]);
    expect(Array.from(referenceMap([3], false))).toEqual([0, 0, 0]);
    expect(Array.from(referenceMap([3, 2], true))).toEqual([0, 0, 0, 3, 3, 5, 5, 5, 8, 8]);
    expect(Array.from(referenceMap([1, 1], false))).toEqual([0, 1]);
  });

  it('refuses empty or fractional sets', () => {
    expect(() => referenceMap([], false)).toThrow(InputError);
    expect(() => referenceMap([2, 0], false)).toThrow(InputError);
  });
});

describe('sharingFeeds', () => {
  const unet = { layerCount: 4, groupNormCount: 3 };

  it('turns everything off for null, with an identity map', () => {
    const feeds = sharingFeeds(null, unet, { images: 2, guided: true });
    expect(Object.fromEntries(Object.entries(feeds).map(([name, feed]) => [name, values(feed)]))).toEqual({
      styleset_layer_on: [0, 0, 0, 0],
      styleset_ref_index: [0, 1, 2, 3],
      styleset_share_attention: [0],
      styleset_adain: [0, 0, 0],
      styleset_score_scale: [1],
      styleset_score_shift: [0],
      styleset_full_share_size: [0],
      styleset_group_norm_on: [0],
    });
  });

  it('sets every input from the options and the layout', () => {
    const feeds = sharingFeeds({ ...OPTIONS, onlySelfLevel: 0.5 }, unet, { images: 3, guided: true });
    expect(values(feeds.styleset_layer_on)).toEqual([0, 1, 0, 1]);
    expect(values(feeds.styleset_ref_index)).toEqual([0, 0, 0, 3, 3, 3]);
    expect(feeds.styleset_ref_index.dims).toEqual([6]);
    expect(values(feeds.styleset_share_attention)).toEqual([1]);
    expect(values(feeds.styleset_adain)).toEqual([1, 1, 0]);
    expect(values(feeds.styleset_score_scale)).toEqual([1.5]);
    expect(values(feeds.styleset_score_shift)[0]).toBeCloseTo(Math.LN2, 6);
    expect(values(feeds.styleset_full_share_size)).toEqual([0]);
    expect(values(feeds.styleset_group_norm_on)).toEqual([1]);
  });

  it('groups full attention sharing by set, which must be of one size', () => {
    const full = { ...OPTIONS, fullAttentionShare: true };
    expect(values(sharingFeeds(full, unet, { images: 4, guided: false })['styleset_full_share_size'])).toEqual([4]);
    expect(values(sharingFeeds(full, unet, { images: 4, guided: true, sets: [2, 2] })['styleset_full_share_size'])).toEqual([2]);
    expect(() => sharingFeeds(full, unet, { images: 4, guided: true, sets: [3, 1] })).toThrow(InputError);
  });

  it('leaves every layer plain when nothing attention-related is on', () => {
    const none = { ...OPTIONS, shareAttention: false, adainQueries: false, adainKeys: false };
    expect(values(sharingFeeds(none, unet, { images: 2, guided: false }).styleset_layer_on)).toEqual([0, 0, 0, 0]);
  });

  it('omits the GroupNorm switch for a model without GroupNorms', () => {
    expect(sharingFeeds(OPTIONS, { layerCount: 2, groupNormCount: 0 }, { images: 2, guided: false })).not.toHaveProperty('styleset_group_norm_on');
  });

  it('refuses layouts and values it cannot express', () => {
    expect(() => sharingFeeds(OPTIONS, unet, { images: 3, guided: false, sets: [1, 1] })).toThrow(InputError);
    expect(() => sharingFeeds(OPTIONS, unet, { images: 0, guided: false })).toThrow(InputError);
    expect(() => sharingFeeds({ ...OPTIONS, sharedScoreShift: Number.POSITIVE_INFINITY }, unet, { images: 2, guided: false })).toThrow(InputError);
  });
});
