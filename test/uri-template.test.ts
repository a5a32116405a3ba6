import { describe, expect, it } from 'vitest';
import { UriTemplate } from '../src/server/uri-template.js';

describe('UriTemplate', () => {
  it('matches simple and multi-segment templates', () => {
    const t = new UriTemplate('test://template/{id}/data');
    expect(t.match('test://template/42/data')).toEqual({ id: '42' });
    expect(t.match('test://template/a/b/data')).toBeNull();
    expect(t.match('test://other/42/data')).toBeNull();
    expect(t.variableNames).toEqual(['id']);
  });

  it('expands and matches the operators', () => {
    const t = new UriTemplate('file:///{+path}{?mode,limit}');
    expect(t.expand({ path: 'a/b c', mode: 'r' })).toBe('file:///a/b%20c?mode=r');
    expect(t.match('file:///a/b%20c?mode=r&limit=3')).toEqual({ path: 'a/b c', mode: 'r', limit: '3' });
    const seg = new UriTemplate('repo://{owner}/{repo}{/path*}');
    expect(seg.expand({ owner: 'o', repo: 'r', path: ['x', 'y'] })).toBe('repo://o/r/x/y');
    expect(seg.match('repo://o/r/x/y')).toEqual({ owner: 'o', repo: 'r', path: ['x', 'y'] });
  });

  it('decodes percent-encoded values', () => {
    expect(new UriTemplate('users://{name}/profile').match('users://J%C3%B6rg/profile')).toEqual({
      name: 'Jörg',
    });
  });
});
