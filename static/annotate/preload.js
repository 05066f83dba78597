// Preloading the next item: while one item is being worked on, ask the API
// which item the next claim would most likely get (GET tasks/peek/, read-only,
// no lease) and fetch and decode its image, so that it is on screen the moment
// the current one is done. The claim still decides: if it hands out another
// item (someone else took this one), that item loads normally.
// Off when window.alwebPreload === false (benchmarks compare both).

import { apiCall } from "./task-client.js";

export function createPreloader(config) {
  let ready = null; // {peek, image}
  let generation = 0;
  let settled = Promise.resolve(null); // the latest look-ahead, done or not
  const enabled = () => window.alwebPreload !== false && !!config.peekUrl;

  /** Start looking ahead (drops what was preloaded before). */
  function refresh(exclude = []) {
    settled = lookAhead(exclude);
    return settled;
  }

  async function lookAhead(exclude) {
    const gen = ++generation;
    ready = null;
    if (!enabled()) return null;
    const query = new URLSearchParams({ kind: config.kind });
    for (const id of exclude.slice(-200)) query.append("exclude", String(id));
    const res = await apiCall("GET", `${config.peekUrl}?${query}`);
    if (gen !== generation || res.status !== 200 || !res.data || !res.data.item) return null;
    const image = new Image();
    image.decoding = "async";
    image.src = res.data.item.image_url;
    try {
      await image.decode();
    } catch {
      return null; // taken meanwhile (404) or not an image: load it normally later
    }
    if (gen !== generation) return null;
    ready = { peek: res.data, image };
    document.dispatchEvent(new CustomEvent("itemPreloaded", { detail: { itemId: res.data.item.id } }));
    return ready;
  }

  return {
    refresh,
    /** The preloaded next item (once), unless it is `currentItemId`. */
    take(currentItemId) {
      const r = ready;
      ready = null;
      generation += 1;
      return r && r.peek.item.id !== currentItemId ? r : null;
    },
    get ready() {
      return ready;
    },
    /** Resolves when the latest look-ahead has finished (its result or null). */
    get settled() {
      return settled;
    },
  };
}
