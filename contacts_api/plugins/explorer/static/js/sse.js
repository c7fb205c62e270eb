// Server-Sent Events over fetch(): EventSource cannot send the bearer token,
// so the page reads the stream itself. A dropped stream is resumed with
// Last-Event-ID; when streaming keeps failing, the job's status route is
// polled instead (both are the same API any client may use).

import { call, getJson } from "./api.js";

const MAX_STREAM_FAILURES = 3;
const POLL_MS = 1000;

const sleep = (ms, signal) =>
  new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve();
    });
  });

/** Parse SSE text into messages; answers the unparsed rest. */
function parse(buffer, onMessage) {
  const blocks = buffer.split(/\r?\n\r?\n/);
  const rest = blocks.pop();
  for (const block of blocks) {
    const message = { event: "message", data: [], id: null, retry: null };
    for (const line of block.split(/\r?\n/)) {
      if (!line || line.startsWith(":")) continue;
      const colon = line.indexOf(":");
      const name = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
      if (name === "data") message.data.push(value);
      else if (name === "event") message.event = value;
      else if (name === "id") message.id = value;
      else if (name === "retry") message.retry = Number(value);
    }
    onMessage(message);
  }
  return rest;
}

/**
 * Follow a job: `onUpdate(job)` for every state, until the final one (which
 * the promise answers). `eventsUrl` streams it; `statusUrl` is polled when
 * streaming fails. Stop early with `signal`.
 */
export async function followJob(eventsUrl, statusUrl, { onUpdate, isFinal, signal }) {
  let lastId = null;
  let retryMs = 2000;
  let failures = 0;
  while (!signal?.aborted && failures < MAX_STREAM_FAILURES) {
    let final = null;
    try {
      const headers = { Accept: "text/event-stream" };
      if (lastId) headers["Last-Event-ID"] = lastId;
      const response = await call(eventsUrl, { headers, signal });
      if (response.status === 204) break; // we already had the final event
      const reader = response.body.getReader();
      const decoder = new TextDecoder();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer = parse(buffer + decoder.decode(value, { stream: true }), (message) => {
          if (message.retry) retryMs = message.retry;
          if (!message.data.length) return;
          if (message.id) lastId = message.id;
          const job = JSON.parse(message.data.join("\n"));
          onUpdate(job);
          if (message.event === "end") final = job;
        });
        if (final) {
          reader.cancel().catch(() => {});
          return final;
        }
      }
      failures += 1; // closed before the final event: resume after a pause
      await sleep(retryMs, signal);
    } catch (error) {
      if (error.name === "AbortError" || signal?.aborted) return null;
      if (error.status && error.status !== 503) throw error; // 401, 404: no point retrying
      failures += 1;
      await sleep(retryMs, signal);
    }
  }
  // Streaming is not working from here (a proxy buffering it, say): poll.
  while (!signal?.aborted) {
    const job = await getJson(statusUrl, { signal });
    onUpdate(job);
    if (isFinal(job)) return job;
    await sleep(POLL_MS, signal);
  }
  return null;
}
