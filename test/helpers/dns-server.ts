/**
 * A tiny authoritative DNS server over UDP on 127.0.0.1:0, for discovery
 * tests. It knows one name: A queries for it are answered with the current
 * `addresses` (mutable; TTL 0 so nothing caches them), AAAA and other types
 * with NOERROR and no records; any other name gets NXDOMAIN. Only as much of
 * RFC 1035 as that needs: the 12-byte header, one question, answers whose
 * name is a compression pointer to the question (0xc00c).
 */
import dgram from 'node:dgram';
import { EventEmitter, once } from 'node:events';
import { isIPv4 } from 'node:net';

const TYPE_A = 1;
const CLASS_IN = 1;
const RCODE_FORMERR = 1;
const RCODE_NXDOMAIN = 3;

export interface DnsQuery {
  readonly name: string;
  readonly type: number;
}

export interface DnsServerEvents {
  /** A query was answered (or, when silent, dropped). */
  query: [DnsQuery];
}

export interface TestDnsServer {
  /** `127.0.0.1:PORT`, for `Resolver.setServers`. */
  readonly address: string;
  /** The A records of `name` (IPv4 addresses), answered from now on. */
  addresses: readonly string[];
  /** When set, every query gets SERVFAIL (a failed lookup). */
  failing: boolean;
  /** When set, queries are read but never answered (a lookup that times out). */
  silent: boolean;
  readonly events: EventEmitter<DnsServerEvents>;
  close(): Promise<void>;
}

export async function startDnsServer(
  name: string,
  addresses: readonly string[],
): Promise<TestDnsServer> {
  const socket = dgram.createSocket('udp4');
  const events = new EventEmitter<DnsServerEvents>();
  const state = { addresses: [...addresses], failing: false, silent: false };
  const wanted = name.toLowerCase().replace(/\.$/, '');

  socket.on('message', (message, remote) => {
    const reply = answer(message, wanted, state);
    if (reply === undefined) return;
    if (!state.silent) socket.send(reply.packet, remote.port, remote.address);
    if (reply.query !== undefined) events.emit('query', reply.query);
  });
  socket.bind(0, '127.0.0.1');
  await once(socket, 'listening');
  const { port } = socket.address();

  return {
    address: `127.0.0.1:${port}`,
    get addresses() {
      return state.addresses;
    },
    set addresses(next: readonly string[]) {
      for (const ip of next) if (!isIPv4(ip)) throw new Error(`not an IPv4 address: ${ip}`);
      state.addresses = [...next];
    },
    get failing() {
      return state.failing;
    },
    set failing(value: boolean) {
      state.failing = value;
    },
    get silent() {
      return state.silent;
    },
    set silent(value: boolean) {
      state.silent = value;
    },
    events,
    close: () =>
      new Promise<void>((resolve) => {
        socket.close(() => resolve());
      }),
  };
}

interface Answer {
  readonly packet: Buffer;
  readonly query: DnsQuery | undefined;
}

function answer(
  message: Buffer,
  wanted: string,
  state: { readonly addresses: readonly string[]; readonly failing: boolean },
): Answer | undefined {
  if (message.length < 12) return undefined;
  const id = message.readUInt16BE(0);
  const flags = message.readUInt16BE(2);
  if ((flags & 0x8000) !== 0) return undefined; // a response, not a query
  const questions = message.readUInt16BE(4);
  const question = questions === 1 ? readQuestion(message, 12) : undefined;
  if (question === undefined)
    return { packet: header(id, flags, RCODE_FORMERR, 0, 0), query: undefined };
  const { name, type, end } = question;
  const query = { name, type };
  const questionBytes = message.subarray(12, end);
  if (state.failing) {
    return { packet: Buffer.concat([header(id, flags, 2, 1, 0), questionBytes]), query };
  }
  if (name.toLowerCase() !== wanted) {
    return {
      packet: Buffer.concat([header(id, flags, RCODE_NXDOMAIN, 1, 0), questionBytes]),
      query,
    };
  }
  const records = type === TYPE_A ? state.addresses.map(aRecord) : [];
  return {
    packet: Buffer.concat([header(id, flags, 0, 1, records.length), questionBytes, ...records]),
    query,
  };
}

/** The question at `offset`: its name (dotted, no trailing dot), type and where it ends. */
function readQuestion(
  message: Buffer,
  offset: number,
): { name: string; type: number; end: number } | undefined {
  const labels: string[] = [];
  let at = offset;
  for (;;) {
    const length = message[at];
    if (length === undefined || length > 63) return undefined; // no compression in questions here
    at += 1;
    if (length === 0) break;
    if (at + length > message.length) return undefined;
    labels.push(message.toString('latin1', at, at + length));
    at += length;
  }
  if (at + 4 > message.length) return undefined;
  const type = message.readUInt16BE(at);
  return { name: labels.join('.'), type, end: at + 4 };
}

/** A response header: the query's id, opcode and RD bit; QR and AA set. */
function header(id: number, queryFlags: number, rcode: number, qd: number, an: number): Buffer {
  const out = Buffer.alloc(12);
  out.writeUInt16BE(id, 0);
  const opcodeAndRd = queryFlags & 0x7900;
  out.writeUInt16BE(0x8000 | 0x0400 | opcodeAndRd | rcode, 2);
  out.writeUInt16BE(qd, 4);
  out.writeUInt16BE(an, 6);
  return out;
}

/** An A record for the question's name (pointer 0xc00c), class IN, TTL 0. */
function aRecord(ip: string): Buffer {
  const out = Buffer.alloc(16);
  out.writeUInt16BE(0xc00c, 0);
  out.writeUInt16BE(TYPE_A, 2);
  out.writeUInt16BE(CLASS_IN, 4);
  out.writeUInt32BE(0, 6);
  out.writeUInt16BE(4, 10);
  ip.split('.').forEach((octet, i) => out.writeUInt8(Number(octet), 12 + i));
  return out;
}
