import { describe, expect, it } from 'vitest';
import { parseQueueUrl } from '../../src/team/queue-url';

describe('parseQueueUrl', () => {
  it('reads host, port and database, 6379 and 0 by default', () => {
    expect(parseQueueUrl('redis://queue.example:6380/2')).toEqual({ host: 'queue.example', port: 6380, db: 2, shown: 'redis://queue.example:6380/2' });
    expect(parseQueueUrl('redis://10.0.0.5')).toEqual({ host: '10.0.0.5', port: 6379, db: 0, shown: 'redis://10.0.0.5' });
    expect(parseQueueUrl('redis://[::1]:7000')).toMatchObject({ host: '::1', port: 7000, shown: 'redis://[::1]:7000' });
  });

  it('takes user and password (URL-decoded) and shows neither', () => {
    const address = parseQueueUrl('redis://team:p%40ss%3Aw0rd@queue.example:6379');
    expect(address).toMatchObject({ username: 'team', password: 'p@ss:w0rd', shown: 'redis://***@queue.example:6379' });
    expect(parseQueueUrl('redis://:only-a-password@h').shown).toBe('redis://***@h');
    expect(parseQueueUrl('redis://:only-a-password@h').username).toBeUndefined();
  });

  it('turns on TLS for rediss://, checking the certificate against the host name', () => {
    expect(parseQueueUrl('rediss://:secret@queue.example:6380')).toMatchObject({ tls: { servername: 'queue.example' }, shown: 'rediss://***@queue.example:6380' });
    expect(parseQueueUrl('redis://queue.example').tls).toBeUndefined();
  });

  it('refuses what it cannot use, naming the problem without repeating a password', () => {
    const refusal = (url: string) => {
      try {
        parseQueueUrl(url);
      } catch (error) {
        return (error as Error).message;
      }
      throw new Error(`${url} was accepted`);
    };
    expect(refusal('http://:hunter2@h:80')).toMatch(/redis:\/\/ or rediss:\/\//);
    expect(refusal('redis://:hunter2@h/x')).toMatch(/database number/);
    expect(refusal('redis://:hunter2@h?tls=1')).toMatch(/query strings/);
    expect(refusal('not a url hunter2')).toMatch(/did not parse/);
    for (const url of ['http://:hunter2@h:80', 'redis://:hunter2@h/x', 'redis://:hunter2@h?tls=1', 'not a url hunter2']) expect(refusal(url)).not.toContain('hunter2');
  });
});
