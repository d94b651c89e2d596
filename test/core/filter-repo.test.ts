import { describe, expect, it } from 'vitest';
import { replacementsText } from '../../src/core/filter-repo.js';

describe('replacementsText (git filter-repo --replace-text)', () => {
  const cases: Array<[string, string[], string]> = [
    ['one value a line, literal==>***REMOVED***', ['abc123def456'], 'abc123def456==>***REMOVED***\n'],
    [
      'longest first, so a URL goes before the token inside it',
      ['tok123456', 'https://x.invalid/robot/tok123456'],
      'https://x.invalid/robot/tok123456==>***REMOVED***\ntok123456==>***REMOVED***\n',
    ],
    [
      'a value that looks like a filter-repo rule is marked literal',
      ['regex:a.*b'],
      'literal:regex:a.*b==>***REMOVED***\n',
    ],
    [
      'duplicates, empty values and line breaks are left out',
      ['same-value', 'same-value', '', 'two\nlines'],
      'same-value==>***REMOVED***\n',
    ],
    ['nothing to replace', [], ''],
  ];
  it.each(cases)('%s', (_name, values, expected) => expect(replacementsText(values)).toBe(expected));
});
