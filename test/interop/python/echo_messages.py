"""The messages of test/fixtures/grpc/echo.proto for python3-grpcio, without protoc.

python3-protobuf comes with python3-grpcio (Debian makes it a dependency), so
the two messages are built at run time from a descriptor written out here by
hand; field numbers and types must match echo.proto.
"""

from google.protobuf import descriptor_pb2, message_factory

_FIELD = descriptor_pb2.FieldDescriptorProto

_MESSAGES = {
    'EchoRequest': [
        ('message', _FIELD.TYPE_STRING),
        ('payload', _FIELD.TYPE_BYTES),
        ('fail_code', _FIELD.TYPE_INT32),
        ('fail_message', _FIELD.TYPE_STRING),
        ('fail_details', _FIELD.TYPE_BYTES),
        ('count', _FIELD.TYPE_INT32),
        ('reply_size', _FIELD.TYPE_INT32),
    ],
    'EchoReply': [
        ('message', _FIELD.TYPE_STRING),
        ('payload', _FIELD.TYPE_BYTES),
        ('backend', _FIELD.TYPE_STRING),
        ('index', _FIELD.TYPE_INT32),
        ('total_bytes', _FIELD.TYPE_INT64),
    ],
}


def _file_descriptor():
    file = descriptor_pb2.FileDescriptorProto(
        name='switchyard/interop/echo.proto', package='switchyard.test', syntax='proto3')
    for name, fields in _MESSAGES.items():
        message = file.message_type.add(name=name)
        for number, (field_name, field_type) in enumerate(fields, start=1):
            message.field.add(
                name=field_name, number=number, type=field_type, label=_FIELD.LABEL_OPTIONAL)
    return file


_classes = message_factory.GetMessages([_file_descriptor()])

EchoRequest = _classes['switchyard.test.EchoRequest']
EchoReply = _classes['switchyard.test.EchoReply']

SERVICE_NAME = 'switchyard.test.Echo'

# Both sides lift gRPC's default 4 MiB receive limit, as the grpc-js helpers do.
MAX_MESSAGE_BYTES = 64 * 1024 * 1024
