/**
 * A header object may carry, under `CARRIED_FIELDS`, the flat
 * `[name, value, ...]` fields it stands for: the switchyard engine attaches
 * them to the objects it decodes (names lowercase, pseudo-headers first,
 * every value already checked by its RFC 9113 §8.2 validation, no name
 * repeated), so that a block the proxy forwards unchanged goes back out
 * without being rebuilt from the object and checked again. Anything that
 * derives a header object from such an object either carries matching
 * fields along or none. The property is a symbol: node:http2 and `for…in`
 * never see it.
 */
export const CARRIED_FIELDS: unique symbol = Symbol('switchyard.carriedFields');

/**
 * An object that may carry its fields. Mutable in type only, as the engine's
 * `HeaderFields`: nothing writes to a block once made.
 */
export interface MayCarryFields {
  [CARRIED_FIELDS]?: string[];
}

/** The fields `headers` carries, if it does. */
export function carriedFields(headers: object): string[] | undefined {
  return (headers as MayCarryFields)[CARRIED_FIELDS];
}
