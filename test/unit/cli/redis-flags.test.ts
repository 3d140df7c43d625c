/**
 * The Redis flags are checked before anything connects: every malformed --redis URL is refused
 * with the wrong field named and no stack, a password never appears in a message, and the flags
 * that only make sense with Redis are refused without it.
 */
import { describe, expect, it } from 'vitest';
import { runCli } from '../../support/cli-io.ts';

describe('--redis', () => {
  it.each([
    ['redis://127.0.0.1:6379/abc', `url's db "abc"`],
    ['redis://127.0.0.1:6379/-3', `url's db "-3"`],
    ['redis://127.0.0.1:99999', `url's port "99999"`],
    ['redis://127.0.0.1:port', `url's port "port"`],
    ['http://127.0.0.1:6379', `url's scheme "http"`],
    ['127.0.0.1:6379', `url's scheme is missing`],
    ['redis://', `url's host is missing`],
    ['redis://h:1/0?password=x', `url's query`],
  ])('refuses %s before connecting, naming the field', async (url, named) => {
    for (const command of [['inspect', 'order', 'o1'], ['check'], ['stalled']]) {
      const result = await runCli([...command, '--redis', url]);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(named);
      expect(result.stderr).not.toMatch(/\n\s+at /);
      expect(result.stdout).toBe('');
    }
  });

  it('never prints a password, whatever it holds', async () => {
    for (const password of ['p@ss:w/rd', 'a@b@c', 's3cr3t:/x']) {
      const result = await runCli([
        'inspect',
        'order',
        'o1',
        '--redis',
        `redis://user:${password}@127.0.0.1:99999/0`,
      ]);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('redis://***@127.0.0.1:99999/0');
      expect(result.stderr).not.toContain(password);
      expect(result.stderr).not.toContain('user');
    }
  });

  it('refuses the Redis-only flags without --redis, and an unreadable password file with its path', async () => {
    for (const flag of [
      ['--redis-password-file', '/x'],
      ['--redis-allow-eviction'],
      ['--redis-timeout', '5'],
    ]) {
      const result = await runCli(['stalled', ...flag]);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(`${flag[0]} needs --redis or --redis-cluster`);
    }
    const missing = await runCli([
      'stalled',
      '--redis',
      'redis://127.0.0.1:1',
      '--redis-password-file',
      '/nonexistent/gk-password',
    ]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('--redis-password-file: cannot read /nonexistent/gk-password');
  });
});
