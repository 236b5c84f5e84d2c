import { describe, expect, it } from 'vitest';

import { csvField, toCsv } from './csv';

describe('CSV export', () => {
  it('quotes commas, quotes and line breaks, doubling quotes', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField(null)).toBe('');
    expect(csvField(undefined)).toBe('');
    expect(csvField(12.5)).toBe('12.5');
  });
  it('defuses spreadsheet formulas but keeps negative numbers', () => {
    expect(csvField('=SUM(A1)')).toBe("'=SUM(A1)");
    expect(csvField('@cmd')).toBe("'@cmd");
    expect(csvField('-12.5')).toBe('-12.5');
    expect(csvField('+1')).toBe('+1');
    expect(csvField('-x,y')).toBe('"\'-x,y"');
  });
  it('writes a header and CRLF rows', () => {
    expect(toCsv(['a', 'b'], [['1', 'x,y'], [null, '"']])).toBe('a,b\r\n1,"x,y"\r\n,""""\r\n');
  });
});
