/**
 * The SDK's watch socket outside Workers (the standard WebSocket of Node ≥ 22 and browsers): the token
 * travels as the `cohort.bearer.<JWT>` subprotocol beside `cohort.v1`, never in the URL.
 */

import { afterEach, expect, it } from "vitest";
import { HttpTransport } from "../../../src/client/http.ts";
import { openWatch } from "../../../src/client/watch-socket.ts";

type Listener = (event: { data?: unknown }) => void;

/** A standard-shaped WebSocket that records its constructor arguments and opens at once. */
class FakeSocket {
  static opened: { url: string; protocols: unknown }[] = [];
  private readonly listeners = new Map<string, Listener[]>();
  constructor(url: string, protocols?: unknown) {
    FakeSocket.opened.push({ url, protocols });
    setTimeout(() => this.emit("open", {}), 0);
  }
  addEventListener(type: string, listener: Listener): void {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener]);
  }
  close(): void {}
  emit(type: string, event: { data?: unknown }): void {
    for (const l of this.listeners.get(type) ?? []) l(event);
  }
}

const real = globalThis.WebSocket;
afterEach(() => {
  (globalThis as { WebSocket?: unknown }).WebSocket = real;
  FakeSocket.opened = [];
});

const handlers = { onMessage: () => {}, onClose: () => {} };

it("sends the token as the cohort.bearer subprotocol, not in the URL or a header", async () => {
  (globalThis as { WebSocket?: unknown }).WebSocket = FakeSocket;
  const http = new HttpTransport({ url: "https://cohort.example", token: async () => "aaa.bbb.ccc" });
  const socket = await openWatch(http, "/v1/groups/g/members/m/watch", handlers);
  expect(socket).not.toBeNull();
  expect(FakeSocket.opened).toEqual([
    {
      url: "wss://cohort.example/v1/groups/g/members/m/watch",
      protocols: ["cohort.v1", "cohort.bearer.aaa.bbb.ccc"],
    },
  ]);
});

it("offers only cohort.v1 without a token (AUTH_MODE=none)", async () => {
  (globalThis as { WebSocket?: unknown }).WebSocket = FakeSocket;
  const http = new HttpTransport({ url: "http://localhost:8787" });
  await openWatch(http, "/v1/groups/g/members/m/watch", handlers);
  expect(FakeSocket.opened).toEqual([
    { url: "ws://localhost:8787/v1/groups/g/members/m/watch", protocols: ["cohort.v1"] },
  ]);
});
