/**
 * Parses and redacts `redis://` URLs ourselves instead of handing them to ioredis, which reads a
 * non-numeric db as 0, lets a bad port end in a raw stack, and half-prints a password holding `@`.
 * Every field is checked before a connection is opened, and the error names the field.
 */
import { InvalidConfigError } from '../../core/errors.ts';

/** A parsed `redis[s]://[user[:password]@]host[:port][/db]`. */
export interface RedisUrl {
  tls: boolean;
  host: string;
  port: number;
  db: number;
  username?: string;
  password?: string;
}

/** The highest db index the URL syntax accepts; the server's own range is checked on connect. */
const MAX_DB = 2 ** 31 - 1;

/**
 * The URL's fields, or InvalidConfigError naming the wrong one. The userinfo is everything up to
 * the LAST `@` of the authority, so a password holding unencoded `@`, `:` or `/` still parses (the
 * username ends at the first `:`); percent-encoded characters are decoded.
 */
export function parseRedisUrl(url: string): RedisUrl {
  const fail = (field: string, why: string) =>
    new InvalidConfigError(`redis store: the url's ${field} ${why} (url ${redactUrl(url)})`);
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(url);
  if (!scheme) throw fail('scheme', 'is missing: expected redis://host:port[/db] or rediss:// for TLS');
  const protocol = (scheme[1] as string).toLowerCase();
  if (protocol !== 'redis' && protocol !== 'rediss')
    throw fail('scheme', `"${protocol}" is not supported: use redis:// or rediss:// (TLS)`);
  let rest = url.slice(scheme[0].length);
  if (/[?#]/.test(rest.slice(rest.lastIndexOf('@') + 1)))
    throw fail('query', 'is not supported: give options as store options or flags');
  let username: string | undefined;
  let password: string | undefined;
  const at = rest.lastIndexOf('@');
  if (at >= 0) {
    const userinfo = rest.slice(0, at);
    rest = rest.slice(at + 1);
    const colon = userinfo.indexOf(':');
    const user = decode(colon < 0 ? userinfo : userinfo.slice(0, colon), () =>
      fail('username', 'is not valid percent-encoding'),
    );
    if (colon >= 0)
      password = decode(userinfo.slice(colon + 1), () => fail('password', 'is not valid percent-encoding'));
    // redis://:password@host is the classic form without a user name.
    if (user !== '') username = user;
    else if (colon < 0) throw fail('username', 'is empty before "@"');
  }
  const slash = rest.indexOf('/');
  const authority = slash < 0 ? rest : rest.slice(0, slash);
  const path = slash < 0 ? '' : rest.slice(slash + 1);
  const { host, portText } = splitHostPort(authority);
  if (host === '') throw fail('host', 'is missing');
  let port = 6379;
  if (portText !== undefined) {
    if (!/^\d{1,5}$/.test(portText) || Number(portText) < 1 || Number(portText) > 65_535)
      throw fail('port', `"${portText}" is not a port number (1-65535)`);
    port = Number(portText);
  }
  let db = 0;
  if (path !== '') {
    if (!/^\d+$/.test(path) || Number(path) > MAX_DB)
      throw fail('db', `"${path}" is not a database index (a whole number from 0)`);
    db = Number(path);
  }
  return {
    tls: protocol === 'rediss',
    host,
    port,
    db,
    ...(username === undefined ? {} : { username }),
    ...(password === undefined ? {} : { password }),
  };
}

function splitHostPort(authority: string): { host: string; portText: string | undefined } {
  if (authority.startsWith('[')) {
    const close = authority.indexOf(']');
    if (close < 0) return { host: '', portText: undefined };
    const after = authority.slice(close + 1);
    return {
      host: authority.slice(1, close),
      portText: after.startsWith(':') ? after.slice(1) : after === '' ? undefined : after,
    };
  }
  const colon = authority.lastIndexOf(':');
  return colon < 0
    ? { host: authority, portText: undefined }
    : { host: authority.slice(0, colon), portText: authority.slice(colon + 1) };
}

function decode(text: string, fail: () => Error): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw fail();
  }
}

/**
 * The URL for messages: the whole userinfo (user name and password, whatever they contain) becomes
 * `***`. The userinfo ends at the last `@` before the path, so an unencoded `@`, `:` or `/` in the
 * password cannot leave part of it visible.
 */
export function redactUrl(url: string): string {
  const scheme = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.exec(url);
  const start = scheme ? scheme[0].length : 0;
  const at = url.lastIndexOf('@');
  if (at < start) return url;
  return `${url.slice(0, start)}***@${url.slice(at + 1)}`;
}
