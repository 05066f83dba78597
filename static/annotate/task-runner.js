// The flow both task pages share: show the held task, claim by POST, finish a
// task (submit, approve, reject, release) and go on to the next one. When the
// next item was preloaded (preload.js) it is shown at once, while the finish
// and the claim are still on their way; the claim then confirms it (the same
// item: the canvas stays, edits made meanwhile included) or hands out another
// one (someone else took it: that one loads, and the page says so). A finish
// that fails brings the finished item back with its shapes.
//
// Events for tests and benchmarks: itemShown {itemId, pending, at} once an
// item's image is drawn, taskReady {id, readyAt} once its claim is confirmed.

import { mountCanvas } from "./canvas/index.js";
import { createPreloader } from "./preload.js";
import {
  $, announceReady, apiCall, apiCallRetrying, claimRequest, comparable, errorText, showAlert,
  showClaimError, showEmpty, showTaskInfo,
} from "./task-client.js";

const nextFrame = () => new Promise((r) => requestAnimationFrame(() => r()));

/** hooks: {canvasOptions(), onShow(task, {pending}), onReady(task),
 *  onDone(task, action), onFailed(action, res, task), keepLocal(task, shapes)} */
export function createTaskRunner(config, hooks) {
  const preloader = createPreloader(config);
  const skipped = [];
  const root = $("canvas-root");
  let task = null; // the confirmed task
  let pending = null; // a preloaded item on screen whose claim has not answered
  let canvas = null;
  let busy = false;

  function mount(item, annotations, image) {
    const loaded = new Promise((resolve) => {
      root.addEventListener("imageLoaded", () => resolve(), { once: true });
    });
    const source = image ? { image } : { imageUrl: item.image_url };
    const geometry = { width: item.width, height: item.height, shapes: annotations };
    if (canvas) canvas.load({ ...source, ...geometry });
    else {
      canvas = mountCanvas(root, {
        ...source, ...geometry, labels: config.labels, ...hooks.canvasOptions(),
      });
    }
    if (!document.querySelector("dialog[open]")) canvas.focus();
    return loaded.then(nextFrame).then(() => {
      const at = performance.now();
      window.alwebShown = { itemId: item.id, pending: !!pending, at };
      document.dispatchEvent(new CustomEvent("itemShown", { detail: window.alwebShown }));
    });
  }

  function ready(t) {
    hooks.onReady(t);
    announceReady(t);
    preloader.refresh(skipped);
  }

  async function show(next, { announce = true } = {}) {
    task = next;
    pending = null;
    if (!next) {
      if (canvas) canvas.destroy();
      canvas = null;
      showEmpty(true);
      if (announce) announceReady(null);
      return;
    }
    showEmpty(false);
    showTaskInfo(next);
    hooks.onShow(next, { pending: false });
    await mount(next.item, next.annotations, null);
    if (announce && task === next) ready(next);
  }

  function showPending(pre) {
    task = null;
    pending = pre;
    showEmpty(false);
    showTaskInfo(pre.peek);
    hooks.onShow(pre.peek, { pending: true });
    mount(pre.peek.item, pre.peek.annotations, pre.image);
  }

  function confirmPending(claimed) {
    const pre = pending;
    pending = null;
    task = claimed;
    // The claim's annotations are the truth; they differ from the peek's only
    // if the item changed in between (then they replace unedited shapes).
    if (!canvas.isDirty() && comparable(claimed.annotations) !== comparable(pre.peek.annotations)) {
      canvas.setShapes(claimed.annotations);
    }
    hooks.onShow(claimed, { pending: false });
    ready(claimed);
  }

  async function claimAndShow({ wasPending = null } = {}) {
    const res = await claimRequest(config, skipped);
    if (res.ok && res.status !== 204 && wasPending && pending === wasPending &&
        res.data.item.id === wasPending.peek.item.id) {
      confirmPending(res.data);
      return;
    }
    const taken = wasPending && pending === wasPending;
    if (res.status === 204) await show(null);
    else if (res.ok) await show(res.data);
    else {
      showClaimError("Could not load the next item: " + errorText(res));
      return;
    }
    if (taken) {
      showAlert("The item shown for a moment was taken by someone else: here is the next one.",
        "info");
    }
  }

  /** POST tasks/<id>/<action>/ for the current task, then the next task.
   *  `retry`: the request is safe to repeat; it is sent again while no answer
   *  comes (task-client.js apiCallRetrying). */
  async function finish(action, body, { accept = (res) => res.ok, retry = false } = {}) {
    if (!task || busy) return false;
    busy = true;
    const done = task;
    const snapshot = canvas ? canvas.getShapes() : [];
    const image = canvas ? canvas.getImage() : null;
    if (action === "release") skipped.push(done.item.id);
    const pre = preloader.take(done.item.id);
    if (pre) showPending(pre);
    const res = await (retry ? apiCallRetrying : apiCall)(
      "POST", `${config.taskUrl}${done.id}/${action}/`, body,
    );
    if (!accept(res)) {
      if (action === "release") skipped.pop();
      if (pre) {
        // Back to the item that was not finished, with its shapes (unsaved).
        pending = null;
        task = done;
        showTaskInfo(done);
        hooks.onShow(done, { pending: false });
        canvas.load({ image, width: done.item.width, height: done.item.height,
          shapes: done.annotations });
        canvas.replaceShapes(snapshot);
      }
      hooks.onFailed(action, res, done);
      busy = false;
      return false;
    }
    hooks.onDone(done, action);
    await claimAndShow({ wasPending: pre });
    busy = false;
    return true;
  }

  /** On load: show the task the page says the user holds (a read), then claim
   *  by POST. The same task back means resumed with a renewed lease: the canvas
   *  and any edits stay. Another task means the held one had expired: edits
   *  made meanwhile are kept locally and offered back if it comes round again. */
  async function start() {
    $("claim-status").textContent = "Getting the next item…";
    const held = config.task;
    const shown = held ? show(held, { announce: false }) : null;
    const res = await claimRequest(config, skipped);
    await shown;
    if (held && res.ok && res.data && res.data.id === held.id) {
      held.lease_expires_at = res.data.lease_expires_at;
      ready(held);
      return;
    }
    if (held && canvas && canvas.isDirty()) hooks.keepLocal(held, canvas.getShapes());
    if (res.status === 204) return show(null);
    if (res.ok) return show(res.data);
    showClaimError("Could not load the next item: " + errorText(res));
    return null;
  }

  async function claimNext() {
    if (busy) return;
    busy = true;
    await claimAndShow();
    busy = false;
  }

  return {
    start, finish, claimNext,
    get task() {
      return task;
    },
    get pending() {
      return pending;
    },
    get canvas() {
      return canvas;
    },
    get busy() {
      return busy;
    },
    preloader,
  };
}
