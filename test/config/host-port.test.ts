import t from 'tap';
import { parseHostPort } from '../../src/config/host-port.js';

void t.test('valid host:port', (t) => {
  const cases: [string, string, number][] = [
    ['127.0.0.1:8080', '127.0.0.1', 8080],
    ['0.0.0.0:0', '0.0.0.0', 0],
    ['localhost:65535', 'localhost', 65535],
    ['backend-1.default.svc.cluster.local:50051', 'backend-1.default.svc.cluster.local', 50051],
    ['example.com.:443', 'example.com.', 443],
    ['my_service:80', 'my_service', 80],
    ['[::]:8080', '::', 8080],
    ['[::1]:1', '::1', 1],
    ['[fd00::9]:50051', 'fd00::9', 50051],
    ['[fe80::1%eth0]:80', 'fe80::1%eth0', 80],
  ];
  for (const [text, host, port] of cases) t.same(parseHostPort(text), { host, port }, text);
  t.end();
});

void t.test('invalid host:port', (t) => {
  const cases = [
    '',
    '127.0.0.1',
    '127.0.0.1:',
    ':8080',
    '127.0.0.1:65536',
    '127.0.0.1:+80',
    '127.0.0.1:-1',
    '127.0.0.1: 80',
    ' 127.0.0.1:80',
    '127.0.0.1:80 ',
    '127.0.0.1:8o',
    '127.0.0.1:123456',
    '256.0.0.1:80',
    '10.0.0:80',
    '::1:80',
    '[::1]',
    '[::1]80',
    '[127.0.0.1]:80',
    '[not-ip]:80',
    'http://example.com:80',
    'exa mple.com:80',
    '-bad.example.com:80',
    'bad-.example.com:80',
    'a..b:80',
    `${'a'.repeat(64)}.com:80`,
  ];
  for (const text of cases) t.equal(parseHostPort(text), undefined, JSON.stringify(text));
  t.end();
});
