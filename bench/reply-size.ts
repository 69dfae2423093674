/** The bench backend's unary reply message, and the DATA bytes it makes: 5-byte prefix + message. */
export const UNARY_REPLY_MESSAGE = 'switchyard bench reply';
export const UNARY_REPLY_LENGTH = 5 + Buffer.byteLength(UNARY_REPLY_MESSAGE);
