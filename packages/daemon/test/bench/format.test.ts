import { describe, expect, it } from 'vitest';
import { ms, percent, signed } from '../../bench/report/format';

describe('bench report formatting', () => {
  it('writes a difference with its sign, whichever way it went', () => {
    expect(signed(252.4, ms)).toBe('+252');
    expect(signed(-16.5, ms)).toBe('-17');
    expect(signed(-4.25, ms)).toBe('-4.3');
    expect(signed(0.085, percent)).toBe('+8.5%');
    expect(signed(-0.0071, percent)).toBe('-0.7%');
    expect(signed(0, percent)).toBe('+0.0%');
  });

  it('gives small milliseconds a decimal, negative ones too', () => {
    expect(ms(9.94)).toBe('9.9');
    expect(ms(-9.94)).toBe('-9.9');
    expect(ms(-16.5)).toBe('-17');
    expect(ms(16.5)).toBe('17');
    expect(ms(1234.5)).toBe('1235');
  });
});
