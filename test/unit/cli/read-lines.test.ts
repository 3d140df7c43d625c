import { createHash } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { readLines, type InputLine } from '../../../src/cli/read-lines.ts';

async function collect(chunks: (string | Buffer)[], maxLineBytes = 64, keepBytes = 8): Promise<InputLine[]> {
  const input = new PassThrough();
  const lines: InputLine[] = [];
  const reading = (async () => {
    for await (const line of readLines(undefined, input, { maxLineBytes, keepBytes })) lines.push(line);
  })();
  for (const chunk of chunks) input.write(chunk);
  input.end();
  await reading;
  return lines;
}

describe('readLines', () => {
  it('splits on newlines across chunks, strips CRLF, and yields a last line without a newline', async () => {
    const lines = await collect(['{"a"', ':1}\r\n\n', 'x\ny', 'z']);
    expect(lines.map((line) => (line.kind === 'text' ? line.text : line.kind))).toEqual([
      '{"a":1}',
      '',
      'x',
      'yz',
    ]);
    expect(lines.map((line) => line.number)).toEqual([1, 2, 3, 4]);
  });

  it('refuses a line over the limit with its size, head and SHA-256, and goes on with the next line', async () => {
    const big = 'b'.repeat(1_000);
    const lines = await collect([big.slice(0, 300), big.slice(300), '\nok\n']);
    expect(lines[0]).toMatchObject({
      kind: 'too-large',
      number: 1,
      bytes: 1_000,
      sha256: createHash('sha256').update(big).digest('hex'),
    });
    expect((lines[0] as { head: Buffer }).head.toString()).toBe('bbbbbbbb');
    expect(lines[1]).toMatchObject({ kind: 'text', number: 2, text: 'ok' });
  });

  it('reads a 64 MB line in chunks without holding it: the process heap grows far less than the line', async () => {
    const input = new PassThrough({ highWaterMark: 1 << 16 });
    const seen: InputLine[] = [];
    const reading = (async () => {
      for await (const line of readLines(undefined, input, { maxLineBytes: 1 << 20, keepBytes: 16 }))
        seen.push(line);
    })();
    const chunk = Buffer.alloc(1 << 20, 0x61);
    const before = process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
    let peak = 0;
    for (let index = 0; index < 64; index += 1) {
      if (!input.write(chunk)) await new Promise((resolve) => input.once('drain', resolve));
      peak = Math.max(peak, process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers - before);
    }
    input.end('\n');
    await reading;
    expect(seen).toEqual([expect.objectContaining({ kind: 'too-large', bytes: 64 << 20 })]);
    expect(peak).toBeLessThan(32 << 20);
  });

  it('reports invalid UTF-8 instead of replacing it, so keys differing only in bad bytes stay apart', async () => {
    const one = Buffer.concat([Buffer.from('{"key":"k'), Buffer.from([0xff]), Buffer.from('"}')]);
    const two = Buffer.concat([Buffer.from('{"key":"k'), Buffer.from([0xfe]), Buffer.from('"}')]);
    const lines = await collect([one, Buffer.from('\n'), two, Buffer.from('\n')]);
    expect(lines.map((line) => line.kind)).toEqual(['invalid-utf8', 'invalid-utf8']);
    expect(lines[0]).toMatchObject({ at: 9, bytes: 12 });
    expect((lines[0] as { sha256: string }).sha256).not.toBe((lines[1] as { sha256: string }).sha256);
  });
});
