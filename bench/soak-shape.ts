/** What the soak backend sends, shared by it and the soak's load generator. */
export const SOAK_SERVICE = 'soak.Soak';
/** Messages per `/soak.Soak/Stream` call, one every STREAM_INTERVAL_MS (about 1 s in all). */
export const STREAM_MESSAGES = 20;
export const STREAM_INTERVAL_MS = 50;
