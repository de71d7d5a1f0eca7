// Live updates from GET /api/stream, read with fetch + ReadableStream (EventSource cannot send the
// Authorization header). Reconnects with exponential backoff; a silent connection (no ping for
// a while) is dropped and reopened.

import { ApiError } from './api';
import { decode } from './json';
import { backoffDelay, SseParser, type SseMessage } from './sse';
import { eventSummary, treatment, type EventSummary, type Treatment } from './types';

export type LiveMessage = { type: 'webhook_event'; event: EventSummary } | { type: 'treatment'; treatment: Treatment };

export type LiveStatus = 'connecting' | 'live' | 'reconnecting' | 'stopped';

/** A stream message as a typed update, or null when it is not one the app knows. */
export function decodeLiveMessage(msg: SseMessage): LiveMessage | null {
  let json: unknown;
  try {
    json = JSON.parse(msg.data);
  } catch {
    return null;
  }
  try {
    if (msg.event === 'webhook_event') return { type: 'webhook_event', event: decode(eventSummary, json) };
    if (msg.event === 'treatment') return { type: 'treatment', treatment: decode(treatment, json) };
  } catch {
    return null;
  }
  return null;
}

export interface LiveStreamOptions {
  open: (signal: AbortSignal) => Promise<Response>;
  /** The server pings every 15 s; this long without any byte means the connection is dead. */
  idleTimeoutMs?: number;
  minBackoffMs?: number;
  maxBackoffMs?: number;
}

export class LiveStream {
  private readonly listeners = new Set<(m: LiveMessage) => void>();
  private readonly statusListeners = new Set<(s: LiveStatus) => void>();
  private controller: AbortController | null = null;
  private reader: ReadableStreamDefaultReader<Uint8Array> | null = null;
  private wake: (() => void) | null = null;
  private running = false;
  /** Bumped by start(): a loop from an earlier start() ends instead of running twice. */
  private generation = 0;
  status: LiveStatus = 'stopped';

  constructor(private readonly opts: LiveStreamOptions) {}

  subscribe(listener: (m: LiveMessage) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  onStatus(listener: (s: LiveStatus) => void): () => void {
    this.statusListeners.add(listener);
    listener(this.status);
    return () => this.statusListeners.delete(listener);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.generation += 1;
    void this.loop(this.generation);
  }

  stop(): void {
    this.running = false;
    this.drop(this.controller);
    this.wake?.();
    this.setStatus('stopped');
  }

  private active(gen: number): boolean {
    return this.running && gen === this.generation;
  }

  private async loop(gen: number): Promise<void> {
    let attempt = 0;
    this.setStatus('connecting');
    while (this.active(gen)) {
      const controller = new AbortController();
      this.controller = controller;
      try {
        const res = await this.opts.open(controller.signal);
        if (!this.active(gen)) break;
        this.setStatus('live');
        attempt = 0;
        await this.read(res, controller);
      } catch (e) {
        // 401 (session over) or 403: reconnecting will not help; the app handles the session.
        if (e instanceof ApiError && (e.status === 401 || e.status === 403)) {
          if (this.active(gen)) this.stop();
          return;
        }
      }
      if (!this.active(gen)) break;
      this.setStatus('reconnecting');
      const min = this.opts.minBackoffMs ?? 1000;
      const max = this.opts.maxBackoffMs ?? 30_000;
      await this.sleep(backoffDelay(attempt, min, max));
      attempt += 1;
    }
  }

  private async read(res: Response, controller: AbortController): Promise<void> {
    if (!res.body) return;
    const reader = res.body.getReader();
    this.reader = reader;
    const decoder = new TextDecoder();
    const parser = new SseParser();
    const idleMs = this.opts.idleTimeoutMs ?? 45_000;
    let idle = setTimeout(() => this.drop(controller), idleMs);
    try {
      for (;;) {
        const { done, value } = await reader.read();
        clearTimeout(idle);
        if (done) return;
        idle = setTimeout(() => this.drop(controller), idleMs);
        for (const msg of parser.push(decoder.decode(value, { stream: true }))) this.emit(msg);
      }
    } finally {
      clearTimeout(idle);
      if (this.reader === reader) this.reader = null;
      reader.releaseLock();
    }
  }

  /** Ends the current connection: aborts the request and cancels the body being read. */
  private drop(controller: AbortController | null): void {
    controller?.abort();
    this.reader?.cancel().catch(() => undefined);
  }

  private emit(msg: SseMessage): void {
    const live = decodeLiveMessage(msg);
    if (!live) return;
    for (const listener of this.listeners) {
      try {
        listener(live);
      } catch (e) {
        console.error('live update listener failed', e);
      }
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.wake = null;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wake = done;
    });
  }

  private setStatus(status: LiveStatus): void {
    if (this.status === status) return;
    this.status = status;
    for (const listener of this.statusListeners) listener(status);
  }
}
