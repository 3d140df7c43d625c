import { describe, expect, it } from 'vitest';
import { InvalidConfigError } from '../../../../src/core/errors.ts';
import { redisStore } from '../../../../src/store/redis/index.ts';
import { parseRedisUrl, redactUrl } from '../../../../src/store/redis/redis-url.ts';

const refused = (url: string): InvalidConfigError => {
  try {
    parseRedisUrl(url);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidConfigError);
    return error as InvalidConfigError;
  }
  throw new Error(`${url} was accepted`);
};

describe('parseRedisUrl', () => {
  it('reads host, port, db, user and password, with the defaults for what is left out', () => {
    expect(parseRedisUrl('redis://127.0.0.1')).toEqual({ tls: false, host: '127.0.0.1', port: 6379, db: 0 });
    expect(parseRedisUrl('rediss://u:p@example.org:6380/3')).toEqual({
      tls: true,
      host: 'example.org',
      port: 6380,
      db: 3,
      username: 'u',
      password: 'p',
    });
    expect(parseRedisUrl('redis://:secret@[::1]:7000')).toMatchObject({
      host: '::1',
      port: 7000,
      password: 'secret',
    });
  });

  it('keeps a password holding unencoded @, : and / whole (the userinfo ends at the last @)', () => {
    expect(parseRedisUrl('redis://app:p@ss:w/rd@127.0.0.1:6390/2')).toEqual({
      tls: false,
      host: '127.0.0.1',
      port: 6390,
      db: 2,
      username: 'app',
      password: 'p@ss:w/rd',
    });
    expect(parseRedisUrl('redis://app:p%40ss@h:1').password).toBe('p@ss');
  });

  it.each([
    ['redis://127.0.0.1:6379/abc', 'db', '"abc"'],
    ['redis://127.0.0.1:6379/-1', 'db', '"-1"'],
    ['redis://127.0.0.1:6379/1.5', 'db', '"1.5"'],
    ['redis://127.0.0.1:6379/99999999999', 'db', '"99999999999"'],
    ['redis://127.0.0.1:99999', 'port', '"99999"'],
    ['redis://127.0.0.1:0', 'port', '"0"'],
    ['redis://127.0.0.1:abc', 'port', '"abc"'],
    ['redis://127.0.0.1:', 'port', '""'],
    ['http://127.0.0.1:6379', 'scheme', '"http"'],
    ['127.0.0.1:6379', 'scheme', 'missing'],
    ['redis://:6379', 'host', 'missing'],
    ['redis://127.0.0.1:6379/0?db=3', 'query', 'not supported'],
    ['redis://us%zzer:pw@h:1', 'username', 'percent-encoding'],
  ])('refuses %s naming the %s before connecting', (url, field, detail) => {
    const error = refused(url);
    expect(error.message).toContain(`url's ${field}`);
    expect(error.message).toContain(detail);
  });

  it('never prints the password of a refused url', () => {
    const error = refused('redis://app:p@ss:w/rd@127.0.0.1:99999');
    expect(error.message).not.toMatch(/p@ss|w\/rd|app/);
    expect(error.message).toContain('redis://***@127.0.0.1:99999');
  });
});

describe('redisStore', () => {
  it.each([['nohost'], ['127.0.0.1:99999'], ['127.0.0.1:abc'], [':6379']])(
    'refuses the cluster node %s before connecting',
    (node) => {
      expect(() => redisStore({ cluster: { nodes: [node] } })).toThrow(/cluster node .* is not host:port/);
    },
  );

  it('refuses a malformed url when the store is created, not on its first operation', () => {
    expect(() => redisStore({ url: 'redis://127.0.0.1:6379/abc' })).toThrow(InvalidConfigError);
  });
});

describe('redactUrl', () => {
  it.each([
    ['redis://user:pw@h:1/0', 'redis://***@h:1/0'],
    ['redis://:pw@h:1', 'redis://***@h:1'],
    ['redis://app:p@ss:w/rd@127.0.0.1:6390/2', 'redis://***@127.0.0.1:6390/2'],
    ['rediss://a@b@c:d/e@h', 'rediss://***@h'],
    ['redis://h:1/2', 'redis://h:1/2'],
  ])('hides the whole userinfo of %s', (url, redacted) => {
    expect(redactUrl(url)).toBe(redacted);
  });
});
