"""A python3-grpcio (gRPC C-core) client of switchyard.test.Echo, for the interop tests.

Usage: /usr/bin/python3 echo_client.py TARGET CASE [CASE ...]

Runs each case in turn against TARGET (host:port, plaintext h2c), each on a
channel of its own, and prints one JSON line per case: the call's status code name and details, response initial and trailing
metadata (-bin values in hex), the replies (payloads as length and sha256)
and the elapsed milliseconds, plus what the case sent where a test needs it.
Every call carries `x-call-tag: CASE`, which echo_server.py puts in its
events, so a test can tell which call a backend saw end how.
A non-OK status is a result, not an error: the exit status is 0 whenever the
cases ran; anything unexpected exits non-zero with a traceback on stderr.
"""

import hashlib
import json
import queue
import sys
import time

import grpc

from echo_messages import MAX_MESSAGE_BYTES, SERVICE_NAME, EchoReply, EchoRequest

# The interop spec's special_status_message.
SPECIAL_STATUS_MESSAGE = '\t\ntest with whitespace\r\nand Unicode BMP \u263a and non-BMP \U0001f608\t\n'
# Bytes a header-smart layer could mangle: every byte value, CR/LF, ',', invalid UTF-8.
TRICKY_BYTES = bytes(range(256)) + b'\r\n, ;=' + bytes([0xc3, 0x28, 0xf0, 0x9f, 0x98])
STATUS_DETAILS = b'\x08\x02\x12\x0finterop details'
LARGE_BYTES = 4 * 1024 * 1024
DEADLINE_SECONDS = 0.3


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def metadata_json(metadata):
    return [[key, value.hex() if isinstance(value, bytes) else value]
            for key, value in (metadata or ())]


def reply_json(reply):
    return {
        'message': reply.message,
        'payloadLength': len(reply.payload),
        'payloadSha256': sha256(reply.payload),
        'backend': reply.backend,
        'index': reply.index,
        'totalBytes': reply.total_bytes,
    }


def outcome(call, replies, **extra):
    """The result line for a finished call (a grpc.Call, or the RpcError that is one)."""
    return {
        'code': call.code().name,
        'details': call.details() or '',
        'initialMetadata': metadata_json(call.initial_metadata()),
        'trailingMetadata': metadata_json(call.trailing_metadata()),
        'replies': [reply_json(reply) for reply in replies],
        **extra,
    }


_tag = []  # the case now running


def with_tag(metadata=()):
    return (('x-call-tag', _tag[0]),) + tuple(metadata or ())


def method(name):
    return f'/{SERVICE_NAME}/{name}'


def stub(channel, kind, path):
    return getattr(channel, kind)(path, request_serializer=EchoRequest.SerializeToString,
                                  response_deserializer=EchoReply.FromString)


def call_unary(channel, request, path=method('Unary'), metadata=None, timeout=None, **extra):
    try:
        reply, call = stub(channel, 'unary_unary', path).with_call(
            request, metadata=with_tag(metadata), timeout=timeout)
        return outcome(call, [reply], **extra)
    except grpc.RpcError as error:
        return outcome(error, [], **extra)


class RequestQueue:
    """Requests fed one at a time to a streaming call; `close()` half-closes."""

    _END = object()

    def __init__(self):
        self._queue = queue.Queue()

    def put(self, request):
        self._queue.put(request)

    def close(self):
        self._queue.put(self._END)

    def __iter__(self):
        while True:
            request = self._queue.get()
            if request is self._END:
                return
            yield request


def case_unary(channel):
    payload = bytes([0, 1, 2, 3, 254, 255])
    return call_unary(channel, EchoRequest(message='hello from python', payload=payload),
                      sentSha256=sha256(payload))


def case_server_stream(channel):
    responses = stub(channel, 'unary_stream', method('ServerStream'))(
        EchoRequest(message='tick', count=5, reply_size=1000), metadata=with_tag())
    replies = []
    try:
        replies.extend(responses)
    except grpc.RpcError:
        pass
    return outcome(responses, replies)


def case_client_stream(channel):
    requests = [EchoRequest(message=f'part {i}', payload=bytes([i]) * (1024 * (i + 1)))
                for i in range(5)]
    try:
        reply, call = stub(channel, 'stream_unary', method('ClientStream')).with_call(
            iter(requests), metadata=with_tag())
        return outcome(call, [reply])
    except grpc.RpcError as error:
        return outcome(error, [])


def case_bidi(channel):
    """Ping-pong: each request goes out only after the reply to the one before came back."""
    requests = RequestQueue()
    responses = stub(channel, 'stream_stream', method('Bidi'))(iter(requests), metadata=with_tag())
    replies = []
    try:
        for i in range(5):
            requests.put(EchoRequest(message=f'ping {i}', payload=bytes([i]) * 10))
            replies.append(next(responses))
        requests.close()
        replies.extend(responses)
    except grpc.RpcError:
        requests.close()
    return outcome(responses, replies)


def case_large(channel):
    payload = bytes(range(256)) * (LARGE_BYTES // 256)
    return call_unary(channel, EchoRequest(message='large', payload=payload),
                      sentSha256=sha256(payload), sentLength=len(payload))


def case_metadata(channel):
    metadata = (
        ('x-echo-text', 'plain value: with spaces & symbols ~!@#$%^*()'),
        ('x-echo-data-bin', TRICKY_BYTES),
        ('x-request-only', 'to the backend'),
        ('x-request-only-bin', bytes([1, 2, 3])),
    )
    return call_unary(channel, EchoRequest(message='metadata'), metadata=metadata,
                      sentBin=TRICKY_BYTES.hex())


def case_status(channel):
    """A failure after response headers (the backend echoes x-echo- metadata first)."""
    request = EchoRequest(fail_code=grpc.StatusCode.UNKNOWN.value[0],
                          fail_message=SPECIAL_STATUS_MESSAGE, fail_details=STATUS_DETAILS)
    return call_unary(channel, request, metadata=(('x-echo-status', 'failing'),),
                      expectedDetails=SPECIAL_STATUS_MESSAGE,
                      expectedStatusDetails=STATUS_DETAILS.hex())


def case_status_trailers_only(channel):
    """The same failure as a trailers-only response (no metadata to echo)."""
    request = EchoRequest(fail_code=grpc.StatusCode.UNKNOWN.value[0],
                          fail_message=SPECIAL_STATUS_MESSAGE, fail_details=STATUS_DETAILS)
    return call_unary(channel, request, expectedDetails=SPECIAL_STATUS_MESSAGE,
                      expectedStatusDetails=STATUS_DETAILS.hex())


def case_unknown_method(channel):
    return call_unary(channel, EchoRequest(message='x'), path=method('Nope'))


def case_unrouted_service(channel):
    return call_unary(channel, EchoRequest(message='x'), path='/other.Service/Method')


def case_deadline(channel):
    return call_unary(channel, EchoRequest(message='too slow'), timeout=DEADLINE_SECONDS,
                      deadlineMs=DEADLINE_SECONDS * 1000)


def case_cancel(channel):
    """Bidi: one round trip (so the call reached the backend), then cancel."""
    requests = RequestQueue()
    responses = stub(channel, 'stream_stream', method('Bidi'))(iter(requests), metadata=with_tag())
    requests.put(EchoRequest(message='before cancel'))
    first = next(responses)
    responses.cancel()
    try:
        for _ in responses:
            pass
    except grpc.RpcError:
        pass
    requests.close()
    return outcome(responses, [first])


CASES = {name[len('case_'):]: fn for name, fn in globals().items() if name.startswith('case_')}


def main():
    cases = sys.argv[2:]
    if len(sys.argv) < 3 or any(case not in CASES for case in cases):
        raise SystemExit(f'usage: echo_client.py TARGET CASE [CASE ...] (of {", ".join(CASES)})')
    target = sys.argv[1]
    options = [
        ('grpc.max_receive_message_length', MAX_MESSAGE_BYTES),
        ('grpc.max_send_message_length', MAX_MESSAGE_BYTES),
        ('grpc.enable_http_proxy', 0),  # 127.0.0.1 directly, whatever http_proxy says
    ]
    for case in cases:
        _tag[:] = [case]
        with grpc.insecure_channel(target, options=options) as channel:
            started = time.monotonic()
            result = CASES[case](channel)
            elapsed_ms = (time.monotonic() - started) * 1000
        print(json.dumps({'case': case, 'grpcVersion': grpc.__version__,
                          'elapsedMs': elapsed_ms, **result}), flush=True)


if __name__ == '__main__':
    main()
