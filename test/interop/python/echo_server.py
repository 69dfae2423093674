"""switchyard.test.Echo on python3-grpcio (gRPC C-core), for the interop tests.

Usage: /usr/bin/python3 echo_server.py [--id ID] [--delay-ms MS]

Binds 127.0.0.1:0 and behaves like test/helpers/echo-backend.ts:
- request metadata keys starting with `x-echo-` come back as response initial
  metadata, and as trailing metadata with `-trailer` inserted before any `-bin`;
- `fail_code != 0` fails the call with that code, `fail_message` as the status
  message and `fail_details` (when non-empty) as `grpc-status-details-bin`;
- Unary echoes message and payload (or `reply_size` bytes), `--delay-ms` later;
- ServerStream sends `count` replies of `reply_size` bytes, then fails if asked;
- ClientStream sums the payload bytes of all requests and replies once;
- Bidi replies to each request as it arrives.

Stdout carries one JSON object a line: first {"event": "listening", "port": N,
...}, then {"event": "call", ...} as each call starts (its request metadata,
-bin values in hex, and the seconds left to its deadline, or null), and
{"event": "cancelled", "method": M, "tag": T} when a call ended without its status
reaching the client (client cancel, deadline, or the proxy resetting the stream),
or {"event": "completed", ...} when it ended with its status sent. The tag
is the call's `x-call-tag` request metadata (or null).
The server stops when stdin closes.
"""

import argparse
import json
import sys
import threading
from concurrent import futures

import grpc

from echo_messages import MAX_MESSAGE_BYTES, SERVICE_NAME, EchoReply, EchoRequest

STATUS_DETAILS_KEY = 'grpc-status-details-bin'
STATUS_BY_CODE = {status.value[0]: status for status in grpc.StatusCode}

_stdout_lock = threading.Lock()


def emit(**fields):
    line = json.dumps(fields)
    with _stdout_lock:
        sys.stdout.write(line + '\n')
        sys.stdout.flush()


def metadata_json(metadata):
    return [[key, value.hex() if isinstance(value, bytes) else value] for key, value in metadata]


def trailer_key(key):
    return key[:-len('-bin')] + '-trailer-bin' if key.endswith('-bin') else key + '-trailer'


class Call:
    """One call: reports it, echoes x-echo- metadata, and reports a cancellation."""

    def __init__(self, method, context):
        self.method = method
        self.context = context
        self.finished = False
        # Set when the call is over on the wire, for whatever reason.
        self.over = threading.Event()
        metadata = tuple(context.invocation_metadata())
        self.tag = dict(metadata).get('x-call-tag')
        remaining = context.time_remaining()
        emit(event='call', method=method, tag=self.tag, metadata=metadata_json(metadata),
             timeRemaining=remaining if remaining < 1e6 else None)
        context.add_callback(self._on_over)
        echoed = [(key, value) for key, value in metadata if key.startswith('x-echo-')]
        self.trailing = [(trailer_key(key), value) for key, value in echoed]
        if echoed:
            context.send_initial_metadata(echoed)

    def _on_over(self):
        self.over.set()
        emit(event='cancelled' if self.cancelled() else 'completed', method=self.method,
             tag=self.tag)

    def cancelled(self):
        """C-core's own verdict: the call ended without its status reaching the client.

        The handler returning is no evidence either way: when a reset completes the
        pending message read before grpcio records the cancel, grpcio ends the
        request iterator as if the client had half-closed. grpcio keeps C-core's
        RECV_CLOSE_ON_SERVER cancelled flag as `state.client` (private; Debian's
        python3-grpcio 1.51); without it, fall back to whether the handler finished.
        """
        state = getattr(self.context, '_state', None)
        client = getattr(state, 'client', None)
        if isinstance(client, str):
            return client == 'cancelled'
        return not self.finished

    def finish(self, request=None):
        """Ends the handler's part: trailing metadata, and the failure `request` asks for (raises)."""
        self.finished = True
        trailing = list(self.trailing)
        if request is not None and request.fail_code != 0:
            if request.fail_details:
                trailing.append((STATUS_DETAILS_KEY, request.fail_details))
            self.context.set_trailing_metadata(trailing)
            self.context.abort(STATUS_BY_CODE[request.fail_code], request.fail_message)
        self.context.set_trailing_metadata(trailing)


def reply_payload(request):
    return b'a' * request.reply_size if request.reply_size > 0 else request.payload


def make_handlers(backend_id, delay_seconds):
    def unary(request, context):
        call = Call('Unary', context)
        if delay_seconds > 0 and call.over.wait(delay_seconds):
            return EchoReply()  # cancelled while waiting: nobody reads this
        call.finish(request)
        return EchoReply(message=request.message, payload=reply_payload(request),
                         backend=backend_id)

    def server_stream(request, context):
        call = Call('ServerStream', context)
        payload = b'b' * request.reply_size if request.reply_size > 0 else b''
        for index in range(request.count):
            yield EchoReply(message=request.message, payload=payload, backend=backend_id,
                            index=index)
        call.finish(request)

    def client_stream(request_iterator, context):
        call = Call('ClientStream', context)
        total_bytes = 0
        count = 0
        last = None
        try:
            for request in request_iterator:
                total_bytes += len(request.payload)
                count += 1
                last = request
        except grpc.RpcError:
            return EchoReply()  # cancelled: nobody reads this
        call.finish(last)
        return EchoReply(message=last.message if last else '', backend=backend_id, index=count,
                         total_bytes=total_bytes)

    def bidi(request_iterator, context):
        call = Call('Bidi', context)
        index = 0
        try:
            for request in request_iterator:
                if request.fail_code != 0:
                    call.finish(request)
                yield EchoReply(message=request.message, payload=reply_payload(request),
                                backend=backend_id, index=index)
                index += 1
        except grpc.RpcError:
            return  # cancelled
        call.finish()

    def handler(kind, behaviour):
        return kind(behaviour, request_deserializer=EchoRequest.FromString,
                    response_serializer=EchoReply.SerializeToString)

    return {
        'Unary': handler(grpc.unary_unary_rpc_method_handler, unary),
        'ServerStream': handler(grpc.unary_stream_rpc_method_handler, server_stream),
        'ClientStream': handler(grpc.stream_unary_rpc_method_handler, client_stream),
        'Bidi': handler(grpc.stream_stream_rpc_method_handler, bidi),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--id', default='python')
    parser.add_argument('--delay-ms', type=int, default=0)
    args = parser.parse_args()

    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=32),
        options=[
            ('grpc.max_receive_message_length', MAX_MESSAGE_BYTES),
            ('grpc.max_send_message_length', MAX_MESSAGE_BYTES),
        ],
    )
    server.add_generic_rpc_handlers((
        grpc.method_handlers_generic_handler(
            SERVICE_NAME, make_handlers(args.id, args.delay_ms / 1000)),
    ))
    port = server.add_insecure_port('127.0.0.1:0')
    if port == 0:
        raise SystemExit('could not bind 127.0.0.1:0')
    server.start()
    emit(event='listening', port=port, grpcVersion=grpc.__version__)
    sys.stdin.read()  # until the test closes stdin (or goes away)
    server.stop(0).wait()


if __name__ == '__main__':
    main()
