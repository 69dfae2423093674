/**
 * The listeners' own state as gauges, read at each scrape: client
 * connections and calls in flight per listener.
 */
import { Gauge, type Registry } from 'prom-client';

/** What the gauges read of a listener. */
export interface ListenerView {
  readonly name: string;
  readonly connections: number;
  readonly inFlight: number;
}

export function registerListenerGauges(
  registry: Registry,
  listeners: () => Iterable<ListenerView>,
): void {
  new Gauge<'listener'>({
    name: 'switchyard_downstream_connections',
    help: 'Client HTTP/2 connections open, by listener.',
    labelNames: ['listener'],
    registers: [registry],
    collect() {
      this.reset();
      for (const listener of listeners())
        this.set({ listener: listener.name }, listener.connections);
    },
  });
  new Gauge<'listener'>({
    name: 'switchyard_downstream_calls_in_flight',
    help: 'Calls (streams) in flight, by listener.',
    labelNames: ['listener'],
    registers: [registry],
    collect() {
      this.reset();
      for (const listener of listeners()) this.set({ listener: listener.name }, listener.inFlight);
    },
  });
}
