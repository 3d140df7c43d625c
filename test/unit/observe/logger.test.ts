import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, scrubUrlCredentials, type LoggerOptions } from '../../../src/observe/logger.ts';

function capture(options: LoggerOptions = {}) {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });
  const logger = createLogger({ ...options, destination });
  return { logger, lines, records: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>) };
}

describe('logger', () => {
  it('writes one JSON object per line with level, time and message, and honours the level', () => {
    const { logger, records } = capture({ level: 'info', name: 'gatekeeper' });
    logger.debug('hidden');
    logger.info({ aggregate: 'order', key: 'o1' }, 'applied');
    expect(records()).toHaveLength(1);
    expect(records()[0]).toMatchObject({
      level: 30,
      name: 'gatekeeper',
      aggregate: 'order',
      key: 'o1',
      msg: 'applied',
    });
  });

  it('never prints passwords, SASL credentials, tokens or URL credentials, even at debug', () => {
    const { logger, lines } = capture({ level: 'debug' });
    const secrets = ['hunter2', 's3cr3t-sasl', 'url-pass', 'msg-pass', 'err-pass', 'tok-123', 'Bearer abc'];
    logger.debug(
      {
        redis: { url: 'redis://default:url-pass@redis.internal:6379/0', password: 'hunter2' },
        kafka: {
          brokers: ['b1:9092'],
          sasl: { mechanism: 'scram-sha-512', username: 'svc', password: 's3cr3t-sasl' },
        },
        token: 'tok-123',
        request: { headers: { authorization: 'Bearer abc' } },
      },
      'connecting to %s',
      'rediss://:msg-pass@cache:6380',
    );
    logger.error({ err: new Error('could not reach redis://admin:err-pass@10.0.0.1') }, 'store unavailable');
    const output = lines.join('\n');
    for (const secret of secrets) expect(output).not.toContain(secret);
    expect(output).toContain('redis://[redacted]@redis.internal:6379/0');
    expect(output).toContain('"sasl":"[redacted]"');
    expect(output).toContain('"type":"Error"');
    expect(output).toContain('b1:9092'); // ordinary fields survive
  });

  it('scrubs only the credentials of a URL', () => {
    expect(scrubUrlCredentials('at redis://app:p@ss:w/rd@cache:6380/2 now')).toBe(
      'at redis://[redacted]@cache:6380/2 now',
    );
    expect(scrubUrlCredentials('redis://u:p@h:1 and http://plain.example/x and kafka://k@host')).toBe(
      'redis://[redacted]@h:1 and http://plain.example/x and kafka://[redacted]@host',
    );
  });
});
