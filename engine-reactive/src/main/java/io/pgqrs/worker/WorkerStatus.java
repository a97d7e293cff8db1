package io.pgqrs.worker;

/** The lifecycle state of a registered worker. */
public enum WorkerStatus {
  /** Running: may claim and process messages. */
  READY,
  /** Paused by an operator: its streams stop fetching until resumed. */
  SUSPENDED,
  /** Shut down; it holds no leases. A stopped worker is never resumed: register a new one. */
  STOPPED
}
