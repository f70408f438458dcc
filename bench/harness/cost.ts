/**
 * Cloudflare's published Durable Objects prices (Workers Paid plan, beyond the monthly allowance), and
 * what one operation costs at them. Source: developers.cloudflare.com/durable-objects/platform/pricing,
 * looked up 2026-11-21. Workers (the stateless front) requests are billed separately and left out.
 */
export const PRICES = {
  source: "https://developers.cloudflare.com/durable-objects/platform/pricing",
  lookedUp: "2026-11-21",
  /** Requests: HTTP requests and RPC sessions to an object, alarm invocations. */
  requestPerMillion: 0.15,
  /** Incoming WebSocket messages are billed as requests at 20:1. */
  webSocketMessagesPerRequest: 20,
  /** Duration: wall-clock while active, for the 128 MB allocated whatever is used. */
  gbSecondPerMillion: 12.5,
  allocatedGb: 0.128,
  /** SQLite storage: rows written (setAlarm counts as one), rows read. */
  rowWrittenPerMillion: 1.0,
  rowReadPerMillion: 0.001,
} as const;

export interface OperationCost {
  requests: number;
  rowsWritten: number;
  duration: number;
  total: number;
}

/**
 * Dollars per million operations. `busySecondsPerOp` is the object's active wall-clock per operation:
 * measured as 1 / throughput while it is saturated, the least duration an operation can be billed.
 */
export function costPerMillion(op: {
  viaWebSocket: boolean;
  rowsWrittenPerOp: number;
  busySecondsPerOp: number;
}): OperationCost {
  const requests = op.viaWebSocket
    ? PRICES.requestPerMillion / PRICES.webSocketMessagesPerRequest
    : PRICES.requestPerMillion;
  const rowsWritten = op.rowsWrittenPerOp * PRICES.rowWrittenPerMillion;
  const duration = op.busySecondsPerOp * PRICES.allocatedGb * PRICES.gbSecondPerMillion;
  return { requests, rowsWritten, duration, total: requests + rowsWritten + duration };
}
