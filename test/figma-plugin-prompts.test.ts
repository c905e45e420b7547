import { LIMITS } from '@styleset/protocol';
import { describe, expect, it } from 'vitest';
import { parseNames, prepareSet, promptFor, referencePromptFromName } from '../packages/figma-plugin/src/prompts';

describe('parseNames', () => {
  it('splits on commas and line breaks in any mix, trimming and collapsing spaces', () => {
    expect(parseNames('home, search,settings\nprofile\r\n  shopping   cart ').names).toEqual([
      'home',
      'search',
      'settings',
      'profile',
      'shopping cart',
    ]);
  });

  it('ignores extra commas, blank lines and whitespace-only entries', () => {
    expect(parseNames(',,home,, ,\n\n\n  \nsearch,\n,').names).toEqual(['home', 'search']);
  });

  it('keeps the first of names repeated in any case and reports the others', () => {
    expect(parseNames('Home, search, home, HOME, search')).toEqual({ names: ['Home', 'search'], duplicates: ['home', 'HOME', 'search'] });
  });
});

describe('promptFor', () => {
  it('makes an icon prompt with the right article', () => {
    expect(promptFor('home')).toBe('a home icon');
    expect(promptFor('envelope')).toBe('an envelope icon');
    expect(promptFor('user avatar')).toBe('a user avatar icon');
    expect(promptFor('umbrella')).toBe('an umbrella icon');
    expect(promptFor('unicorn')).toBe('a unicorn icon');
  });

  it('does not repeat a kind or an article the name already has', () => {
    expect(promptFor('home icon')).toBe('a home icon');
    expect(promptFor('weather illustration')).toBe('a weather illustration');
    expect(promptFor('the moon')).toBe('the moon icon');
  });

  it('appends the style hint, trimmed, and only when there is one', () => {
    expect(promptFor('search', '  flat pastel, rounded corners ')).toBe('a search icon, flat pastel, rounded corners');
    expect(promptFor('search', '   ')).toBe('a search icon');
  });
});

describe('prepareSet', () => {
  it('pairs each name with its prompt, in the order typed', () => {
    const set = prepareSet('home, search, settings, profile', 'line art');
    expect(set).toEqual({
      ok: true,
      duplicates: [],
      items: [
        { name: 'home', prompt: 'a home icon, line art' },
        { name: 'search', prompt: 'a search icon, line art' },
        { name: 'settings', prompt: 'a settings icon, line art' },
        { name: 'profile', prompt: 'a profile icon, line art' },
      ],
    });
  });

  it('asks for a name when there is none', () => {
    expect(prepareSet(' ,\n, ', '')).toEqual({ ok: false, error: expect.stringMatching(/at least one name/) });
  });

  it(`accepts ${LIMITS.maxPromptsPerJob} names and refuses more, naming the limit and the count`, () => {
    const names = (n: number) => Array.from({ length: n }, (_, i) => `icon ${i}`).join(', ');
    expect(prepareSet(names(LIMITS.maxPromptsPerJob), '').ok).toBe(true);
    const over = prepareSet(names(LIMITS.maxPromptsPerJob + 6), '');
    expect(over).toEqual({ ok: false, error: expect.stringContaining(`at most ${LIMITS.maxPromptsPerJob} images`) });
    expect(over.ok || over.error).toContain(`listed ${LIMITS.maxPromptsPerJob + 6} names: remove 6`);
  });

  it('counts distinct names against the limit, so repeats do not push a set over it', () => {
    const repeated = Array.from({ length: LIMITS.maxPromptsPerJob * 2 }, (_, i) => `icon ${i % LIMITS.maxPromptsPerJob}`).join('\n');
    const set = prepareSet(repeated, '');
    expect(set.ok && set.items.length).toBe(LIMITS.maxPromptsPerJob);
    expect(set.ok && set.duplicates.length).toBe(LIMITS.maxPromptsPerJob);
  });

  it('refuses a prompt over the protocol limit, naming the name', () => {
    const set = prepareSet(`home, ${'x'.repeat(LIMITS.maxPromptLength)}`, '');
    expect(set).toEqual({ ok: false, error: expect.stringMatching(/"x{40}…" is over 1000 characters/) });
  });
});

describe('referencePromptFromName', () => {
  it('makes a prompt of a layer name the way icon libraries write them', () => {
    expect(referencePromptFromName('star')).toBe('a star icon');
    expect(referencePromptFromName('icons/Star-filled 24')).toBe('a Star filled icon');
    expect(referencePromptFromName('Icons / arrow_left@2x')).toBe('an arrow left icon');
    expect(referencePromptFromName('Hero illustration')).toBe('a Hero illustration');
  });

  it('leaves it to the designer when the name says nothing about the picture', () => {
    for (const name of ['Frame 12', 'Rectangle', 'image 3', 'Group 7', 'Vector', 'Size=24, Style=Filled', '42', ' / ', '']) {
      expect(referencePromptFromName(name), name).toBe('');
    }
  });
});
