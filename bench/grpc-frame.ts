/** A gRPC length-prefixed message: flag byte 0 (uncompressed), 4-byte length, payload. */
export function grpcFrame(payload: Buffer): Buffer {
  const frame = Buffer.alloc(5 + payload.length);
  frame.writeUInt32BE(payload.length, 1);
  payload.copy(frame, 5);
  return frame;
}
