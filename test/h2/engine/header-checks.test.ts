/**
 * The request, response and trailer checks of §8.2–§8.3 called directly,
 * one block after another as a connection sees them: a field that passed
 * at a position passes again without its characters being scanned, so a
 * bad field at a position where a good one passed before must still fail.
 */
import t from 'tap';
import { H2StreamError } from '../../../src/h2/h2-error.js';
import {
  checkRequestHead,
  checkResponseHead,
  checkTrailers,
} from '../../../src/h2/header-fields.js';

const HEAD = [':method', 'POST', ':scheme', 'http', ':path', '/s/M', ':authority', 'a'];

function request(name: string, value: string): string[] {
  return [...HEAD, 'content-type', 'application/grpc', name, value];
}

void t.test('a bad field where a good one passed before still fails', (t) => {
  t.equal(checkRequestHead(request('x-tenant', 'blue'), 1), -1);
  t.equal(checkRequestHead(request('x-tenant', 'blue'), 3), -1, 'the same again');
  const cases: [string, string, RegExp][] = [
    ['x-tenant', 'blue\r\nx-evil: 1', /invalid value/],
    ['x-tenant', ' blue', /invalid value/],
    ['X-Tenant', 'blue', /invalid field name/],
    ['connection', 'close', /connection-specific/],
    ['te', 'gzip', /only "trailers"/],
  ];
  for (const [name, value, message] of cases) {
    t.throws(() => checkRequestHead(request(name, value), 5), message, `${name}: ${value}`);
    t.equal(checkRequestHead(request('x-tenant', 'blue'), 7), -1, 'and the good one after it');
  }
  t.end();
});

void t.test('content-length is read again each time it passes', (t) => {
  t.equal(checkRequestHead(request('content-length', '5'), 1), 5);
  t.equal(checkRequestHead(request('content-length', '5'), 3), 5);
  t.throws(() => checkRequestHead(request('content-length', '5x'), 5), /content-length/);
  const twice = [...request('content-length', '5'), 'content-length', '6'];
  t.throws(() => checkRequestHead(twice, 7), /conflicting/);
  t.end();
});

void t.test(':status is three digits, the first not 0', (t) => {
  for (const status of ['200', '404', '599', '100']) {
    t.equal(checkResponseHead([':status', status, 'content-length', '0'], 1), 0, status);
  }
  for (const status of ['20', '2000', '099', '2a0', ' 200', '']) {
    t.throws(
      () => checkResponseHead([':status', status], 1),
      H2StreamError,
      JSON.stringify(status),
    );
  }
  t.end();
});

void t.test('trailers: no pseudo-headers, fields checked at every position', (t) => {
  checkTrailers(['grpc-status', '0', 'grpc-message', 'ok'], 1);
  t.throws(() => checkTrailers(['grpc-status', '0', 'grpc-message', 'o\nk'], 3), /invalid value/);
  t.throws(() => checkTrailers([':status', '200'], 5), /pseudo-header/);
  t.end();
});
