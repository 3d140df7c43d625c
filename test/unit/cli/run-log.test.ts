import { describe, expect, it } from 'vitest';
import { runLogLine, secretsOf } from '../../../src/cli/run-log.ts';
import { describeKafkaError } from '../../../src/kafka/kafka-errors.ts';

const at = new Date('2026-12-01T10:00:00.123Z');

describe('gatekeeper run log lines', () => {
  it('start with the time and the level and keep the details kafkajs attached', () => {
    const line = runLogLine(
      'error',
      'kafkajs Connection: Response Metadata(key: 3, version: 6)',
      {
        broker: '127.0.0.1:9092',
        clientId: 'gk',
        error: 'This server does not host this topic-partition',
        stack: 'Error\n at x',
      },
      [],
      at,
    );
    expect(line).toBe(
      '2026-12-01T10:00:00.123Z ERROR gatekeeper run: kafkajs Connection: Response Metadata(key: 3, version: 6) (broker=127.0.0.1:9092, clientId=gk, error=This server does not host this topic-partition)',
    );
  });

  it('never show a configured password, URL credentials or a sasl field, whatever carries them', () => {
    const config = {
      sasl: { mechanism: 'scram-sha-512', username: 'gk', password: 's3cr3t-pass' },
      redis: 'redis://user:redis-pw@127.0.0.1:6379',
    };
    const secrets = secretsOf(config);
    const line = runLogLine(
      'info',
      'authenticating with s3cr3t-pass against redis://user:redis-pw@127.0.0.1:6379',
      { sasl: config.sasl, detail: 'password was s3cr3t-pass', password: 'x' },
      secrets,
      at,
    );
    expect(line).not.toContain('s3cr3t-pass');
    expect(line).not.toContain('redis-pw');
    expect(line).toContain('[redacted]');
  });
});

describe('describeKafkaError', () => {
  it('keeps the broker, the error type and every cause, once each', () => {
    const connection = Object.assign(new Error('Connection error: connect ECONNREFUSED 127.0.0.1:1'), {
      broker: '127.0.0.1:1',
      code: 'ECONNREFUSED',
    });
    const retries = Object.assign(
      new Error('Connection error: connect ECONNREFUSED 127.0.0.1:1', { cause: connection }),
      {
        retryCount: 5,
      },
    );
    expect(describeKafkaError(retries)).toBe(
      'Connection error: connect ECONNREFUSED 127.0.0.1:1 [code ECONNREFUSED, broker 127.0.0.1:1]',
    );
    const protocol = Object.assign(new Error('Not authorized to access topics'), {
      type: 'TOPIC_AUTHORIZATION_FAILED',
      topic: 'gated',
    });
    expect(describeKafkaError(new Error('Error when calling eachBatch', { cause: protocol }))).toBe(
      'Error when calling eachBatch ← Not authorized to access topics [TOPIC_AUTHORIZATION_FAILED, topic gated]',
    );
  });
});
