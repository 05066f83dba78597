// The labelling page: one claimed task at a time, autosaved (debounced, and
// with keepalive when the page is hidden), submitted with the button or
// Ctrl+Enter (an item with no shapes asks first; Ctrl+Shift+Enter or "Nothing
// here" submits it empty on purpose), then the next task: preloaded, so it is
// on screen at once (task-runner.js). The page's GET claims nothing: on load
// the runner claims (or resumes, renewing the lease) with a POST. When a save
// fails the draft is kept in localStorage and offered back after re-login; the
// polygon being drawn and the canvas settings are kept there too (page-state.js).
// Saves send the draft version the page last saw: when another tab or window
// saved first the server answers 409 and the status line says "Conflict"
// (nothing is overwritten; this page's shapes are kept locally). A submit
// carries a client id made once per attempt and is retried with it while no
// answer comes, so it is applied once.

import { confirmDialog } from "./confirm.js";
import { localDrawings, uiSettings, wireSettings } from "./page-state.js";
import { createTaskRunner } from "./task-runner.js";
import {
  $, apiCall, errorText, localDrafts, newClientId, readConfig, showAlert, wireClaimForms,
  wireFocusReturn, wirePageKeys,
} from "./task-client.js";

const AUTOSAVE_MS = 1500;
const PAGE_KEYS = [["This page", [
  ["Ctrl+Enter", "submit (an item with no shapes asks first)"],
  ["Ctrl+Shift+Enter", "nothing here: submit the item with no shapes"],
  ["Shift+S", "skip this item"],
]]];
const config = readConfig();
const settings = uiSettings(config.projectId, "label");
let version = 0;
let timer = null;
let saving = null; // the save in flight (a promise)
let attempt = null; // {taskId, key, clientId}: the submit whose answer was not seen

/** Click-to-segment: the polygon of the object at (x, y) on the shown item, or
 *  null with the reason on the page (no weights, nothing found there). */
async function segmentAt(x, y, label) {
  const item = runner.task?.item;
  if (!item) return null;
  const res = await apiCall("POST", `${config.segment.url}${item.id}/segment/`, { x, y, label });
  if (runner.task?.item?.id !== item.id) return null;
  if (res.ok && res.data?.shape) {
    showAlert("");
    return res.data.shape.points;
  }
  showAlert("Segment: " + errorText(res));
  return null;
}

const runner = createTaskRunner(config, {
  // The threshold starts at the site's default until this browser moves it.
  canvasOptions: () => ({ threshold: config.threshold, ...settings.get(),
    keyScope: $("task-work"), pageKeys: PAGE_KEYS,
    segment: config.segment && { ...config.segment, request: segmentAt } }),
  onShow(t, { pending }) {
    clearTimeout(timer);
    showAlert("");
    $("relogin-link").hidden = true;
    if (pending) setStatus("saving", "Claiming…");
    else {
      version = t.version;
      setStatus("saved", "Saved");
    }
  },
  onReady(t) {
    offerRestore(t);
    const drawing = localDrawings.get(t.id);
    if (drawing && canvas()) {
      if (drawing.label) canvas().setLabel(drawing.label);
      canvas().setDrawing(drawing);
    }
    if (canvas() && canvas().isDirty()) schedule();
  },
  onDone(t) {
    attempt = null;
    localDrafts.drop(t.id);
    localDrawings.drop(t.id);
  },
  onFailed(action, res) {
    if (action === "release") {
      showAlert("Could not skip: " + errorText(res));
    } else if (res.status === 400) {
      attempt = null;
      setStatus("failed", "Not submitted");
      showAlert("Not submitted: " + errorText(res));
    } else {
      keepLocally(res.network ? 0 : res.status, res);
    }
  },
  keepLocal: (t, shapes) => localDrafts.put(t, shapes),
});
const canvas = () => runner.canvas;

function setStatus(state, text) {
  const el = $("save-status");
  el.dataset.state = state;
  el.textContent = text;
}

const draftUrl = (t) => `${config.taskUrl}${t.id}/draft/`;

/** A 409 because the draft moved on (another tab or window saved), not a lost
 *  lease: the body names the current version. */
const isVersionConflict = (res) => res.status === 409 && res.data?.version != null;

function keepLocally(reason, res) {
  const task = runner.task;
  if (!task || !canvas()) return;
  if (isVersionConflict(res)) {
    // Apart from the usual local copy, which the other tab's next save drops.
    localDrafts.put(task, canvas().getShapes(), ":conflict");
    showAlert(
      "Conflict: this item was saved in another tab or window (version " +
        `${res.data.version}) after this page loaded it, so this page's changes were not ` +
        "saved and nothing was overwritten. They are kept in this browser: reload the page " +
        "to see the saved version and restore them if you want them instead.",
    );
    $("relogin-link").hidden = true;
    setStatus("conflict", "Conflict: saved in another tab");
    return;
  }
  localDrafts.put(task, canvas().getShapes());
  const relogin = reason === 401 || reason === 403;
  showAlert(
    (reason === 409
      ? `Conflict: ${errorText(res)}. `
      : relogin
        ? "Your session has ended, so your work could not be saved. "
        : "Your work could not be saved (the server is unreachable). ") +
      "It is kept in this browser" + (relogin ? ": log in again, then reload this page." : "."),
  );
  $("relogin-link").hidden = !relogin;
  setStatus("failed", "Not saved");
}

async function save({ keepalive = false } = {}) {
  const current = runner.task;
  if (!current || !canvas() || !canvas().isDirty()) return true;
  if (saving) {
    if (keepalive) return false; // the page is going away; the local copy stays
    await saving;
  }
  if (runner.task !== current || !canvas().isDirty()) return true;
  const shapes = canvas().getShapes();
  setStatus("saving", "Saving…");
  saving = apiCall("PUT", draftUrl(current), { annotations: shapes, version }, { keepalive });
  const res = await saving;
  saving = null;
  if (current !== runner.task) return res.ok;
  if (res.ok) {
    version = res.data.version;
    // Only what was sent is saved; edits made meanwhile stay dirty.
    if (JSON.stringify(canvas().getShapes()) === JSON.stringify(shapes)) {
      canvas().markSaved();
      setStatus("saved", "Saved " + new Date().toLocaleTimeString());
      localDrafts.drop(current.id);
    } else {
      schedule();
    }
    return true;
  }
  if (res.status === 400) {
    setStatus("failed", "Not saved");
    showAlert("Not saved: " + errorText(res));
    return false;
  }
  keepLocally(res.network ? 0 : res.status, res);
  return false;
}

function schedule() {
  clearTimeout(timer);
  timer = setTimeout(save, AUTOSAVE_MS);
}

function saveOnLeave() {
  const task = runner.task;
  if (!task || !canvas() || !canvas().isDirty()) return;
  clearTimeout(timer);
  // Keep a local copy first: the answer of a keepalive request may never be seen.
  localDrafts.put(task, canvas().getShapes());
  save({ keepalive: true });
}

function offerRestore(task) {
  const stored = localDrafts.find(task);
  const restore = $("restore-draft");
  const discard = $("discard-draft");
  restore.hidden = !stored;
  discard.hidden = !stored;
  if (!stored) return;
  showAlert(`You have unsaved work on this item from ${new Date(stored.at).toLocaleString()}.`,
    "info");
  const hide = () => {
    localStorage.removeItem(stored.key);
    restore.hidden = true;
    discard.hidden = true;
    showAlert("");
  };
  restore.onclick = () => {
    hide();
    canvas().replaceShapes(stored.shapes);
    setStatus("dirty", "Unsaved changes");
    save();
  };
  discard.onclick = hide;
}

function plural(n, word) {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

/** Submit; `empty`: the "nothing here" submit, with no shapes on purpose. */
async function submit({ empty = false } = {}) {
  const c = canvas();
  if (!runner.task || runner.busy || !c) return;
  c.closeDrawing(); // Ctrl+Enter while drawing a polygon finishes it first
  let shapes = c.getSubmittable();
  if (empty && shapes.length) {
    const human = shapes.filter((s) => !String(s.source || "").startsWith("model:")).length;
    if (human && !(await confirmDialog({
      title: "Submit as empty?",
      text: `This removes the ${plural(shapes.length, "shape")} on this item ` +
        `(${plural(human, "drawn or accepted shape")}) and submits it with nothing labelled.`,
      yes: "Remove them and submit empty",
    }))) {
      c.focus();
      return;
    }
    shapes = [];
  } else if (!shapes.length && !empty && !(await confirmDialog({
    title: "Nothing labelled on this item",
    text: "Submit it with no shapes? Do so only if there is nothing to label in this " +
      "image (Ctrl+Shift+Enter says so directly).",
    yes: "Submit with no shapes",
    no: "Keep labelling",
  }))) {
    c.focus();
    return;
  }
  clearTimeout(timer);
  if (saving) await saving;
  setStatus("saving", "Submitting…");
  const body = { annotations: shapes, version, client_id: submitClientId(runner.task, shapes) };
  await runner.finish("submit", body, { retry: true });
}

/** The client id of this submit: the one of the last attempt whose answer was
 *  not seen when it was the same task with the same shapes (it may have been
 *  applied: the server then answers as it did), a fresh one otherwise. */
function submitClientId(task, shapes) {
  const key = JSON.stringify(shapes);
  if (!attempt || attempt.taskId !== task.id || attempt.key !== key) {
    attempt = { taskId: task.id, key, clientId: newClientId() };
  }
  return attempt.clientId;
}

async function skip() {
  if (!runner.task || runner.busy) return;
  clearTimeout(timer);
  if (saving) await saving;
  await runner.finish("release", undefined, { accept: (res) => res.ok || res.status === 409 });
}

const root = $("canvas-root");
root.addEventListener("shapesChanged", () => {
  if (!runner.task || !canvas() || !canvas().isDirty()) return;
  setStatus("dirty", "Unsaved changes");
  schedule();
});
root.addEventListener("drawingChanged", (e) => {
  const task = runner.task;
  if (task && canvas()) localDrawings.put(task.id, e.detail.drawing, canvas().getLabel());
});
wireSettings(root, settings);
$("submit-btn").addEventListener("click", () => submit());
$("submit-empty-btn").addEventListener("click", () => submit({ empty: true }));
$("skip-btn").addEventListener("click", skip);
wirePageKeys({
  "ctrl+enter": () => submit(),
  "ctrl+shift+enter": () => submit({ empty: true }),
  "shift+s": skip,
});
wireFocusReturn($("label-page"), canvas);
document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "hidden") saveOnLeave();
});
window.addEventListener("pagehide", saveOnLeave);
wireClaimForms(() => runner.claimNext());
window.alwebPage = { canvas, save, submit, skip, runner };
runner.start();
