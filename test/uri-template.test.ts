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

describe('UriTemplate matching cost', () => {
  // Templates with every RFC 6570 operator, several variables and explode, each with an input
  // built to make a backtracking matcher try every split (it took 2.3 s for 4,000 characters).
  const cases: [string, (n: number) => string][] = [
    ['x://{+a*}/z', (n) => `x://${',a'.repeat(n)}`],
    ['x://{+a}{+b}{+c}/z', (n) => `x://${'a'.repeat(n)}`],
    ['x://{+a,b}/z', (n) => `x://${'a,'.repeat(n)}`],
    ['x://{+a}{/b*}/z', (n) => `x://${'/a'.repeat(n)}`],
    ['x://{#a,b*}!', (n) => `x://#${'a,'.repeat(n)}`],
    ['x://{a}{b}{c}/z', (n) => `x://${'a'.repeat(n)}`],
    ['x://{.a*}{.b}!', (n) => `x://${'.a'.repeat(n)}`],
    ['x://{/a*}{/b*}!', (n) => `x://${'/a'.repeat(n)}`],
    ['x://{;a*,b}!', (n) => `x://${';a=1'.repeat(n)}`],
    ['x://{?a,b*}{&c}!', (n) => `x://?${'a=1&'.repeat(n)}`],
    ['x://p{&a*}{+b}/z', (n) => `x://p${'&a=1'.repeat(n)}`],
  ];

  it('is linear in the URI length for every operator (steps counted, within the stated bound)', () => {
    for (const [template, make] of cases) {
      const t = new UriTemplate(template);
      const steps = (n: number) => {
        const uri = make(n);
        t.match(uri);
        expect(t.lastMatchSteps, template).toBeLessThanOrEqual(t.stepsBound(uri.length));
        return t.lastMatchSteps;
      };
      const small = steps(1000);
      const large = steps(4000);
      expect(large, `${template}: ${small} steps for n=1000, ${large} for n=4000`).toBeLessThanOrEqual(
        4 * small + 64,
      );
    }
  });

  it('a 4,000-character URI against {+var} templates is answered at once', () => {
    const t = new UriTemplate('x://{+a*}/z');
    expect(t.match(`x://${',a'.repeat(2000)}`)).toBeNull();
    expect(t.match(`x://${',a'.repeat(2000)}/z`)).toEqual({ a: Array(2000).fill('a') });
  });

  it('keys from the URI never reach a prototype, and a bad escape does not throw', () => {
    const t = new UriTemplate('x://{?q}');
    const vars = t.match('x://?__proto__=1&q=2');
    expect(Object.getPrototypeOf(vars)).toBe(Object.prototype);
    expect(new UriTemplate('x://{a}').match('x://%E0%A4')).toEqual({ a: '%E0%A4' });
  });
});

describe('UriTemplate simple values', () => {
  it('a {var} value may hold dots and other sub-delimiters, as its expansion does', () => {
    const users = new UriTemplate('users://{email}/profile');
    expect(users.expand({ email: 'ada.lovelace@example.com' })).toBe(
      'users://ada.lovelace%40example.com/profile',
    );
    expect(users.match('users://ada.lovelace%40example.com/profile')).toEqual({
      email: 'ada.lovelace@example.com',
    });
    expect(users.match('users://ada.lovelace@example.com/profile')).toEqual({
      email: 'ada.lovelace@example.com',
    });
    expect(new UriTemplate('file:///docs/{name}.txt').match('file:///docs/archive.tar.txt')).toEqual({
      name: 'archive.tar',
    });
    // Still one segment: a slash, a query or a fragment ends the value.
    expect(users.match('users://a/b/profile')).toBeNull();
  });
});
