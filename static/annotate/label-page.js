// The labelling page: one claimed task at a time, autosaved (debounced, and
// with keepalive when the page is hidden), submitted with the button or
// Ctrl+Enter, then the next task is claimed without a page load. The page's GET
// claims nothing: on load this script claims (or resumes, renewing the lease)
// with a POST. When a save fails the draft is kept in localStorage and offered
// back after re-login.

import {
  $, announceReady, apiCall, claimRequest, errorText, localDrafts, mountTask, readConfig,
  showAlert, showClaimError, showEmpty, showTaskInfo, wireClaimForms, wireModelControls,
} from "./task-client.js";

const AUTOSAVE_MS = 1500;
const config = readConfig();
let task = config.task;
let canvas = null;
let version = task ? task.version : 0;
let timer = null;
let saving = null; // the save in flight (a promise)
let busy = false; // submit / skip in progress
const skipped = [];

function setStatus(state, text) {
  const el = $("save-status");
  el.dataset.state = state;
  el.textContent = text;
}

const draftUrl = (t) => `${config.taskUrl}${t.id}/draft/`;

function keepLocally(reason, res) {
  if (!task || !canvas) return;
  localDrafts.put(task, canvas.api.getShapes());
  const relogin = reason === 401 || reason === 403;
  showAlert(
    (reason === 409
      ? `Conflict: ${errorText(res)}. `
      : relogin
        ? "Your session has ended, so your work could not be saved. "
        : "Your work could not be saved (the server is unreachable). ") +
      "It is kept in this browser" + (relogin ? ": log in again, then reload this page." : "."),
  );
  $("relogin-link").classList.toggle("lp-hidden", !relogin);
  setStatus("failed", "Not saved");
}

async function save({ keepalive = false } = {}) {
  if (!task || !canvas || !canvas.api.isDirty()) return true;
  if (saving) {
    if (keepalive) return false; // the page is going away; the local copy stays
    await saving;
  }
  if (!canvas.api.isDirty()) return true;
  const current = task;
  const shapes = canvas.api.getShapes();
  setStatus("saving", "Saving…");
  saving = apiCall("PUT", draftUrl(current), { annotations: shapes, version }, { keepalive });
  const res = await saving;
  saving = null;
  if (current !== task) return res.ok;
  if (res.ok) {
    version = res.data.version;
    // Only what was sent is saved; edits made meanwhile stay dirty.
    if (JSON.stringify(canvas.api.getShapes()) === JSON.stringify(shapes)) {
      canvas.api.markSaved();
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
  if (!task || !canvas || !canvas.api.isDirty()) return;
  clearTimeout(timer);
  // Keep a local copy first: the answer of a keepalive request may never be seen.
  localDrafts.put(task, canvas.api.getShapes());
  save({ keepalive: true });
}

function offerRestore() {
  const stored = localDrafts.find(task);
  const restore = $("restore-draft");
  const discard = $("discard-draft");
  restore.classList.toggle("lp-hidden", !stored);
  discard.classList.toggle("lp-hidden", !stored);
  if (!stored) return;
  showAlert(`You have unsaved work on this item from ${new Date(stored.at).toLocaleString()}.`,
    "info");
  restore.onclick = () => {
    canvas.api.setShapes(stored.shapes);
    localStorage.removeItem(stored.key);
    restore.classList.add("lp-hidden");
    discard.classList.add("lp-hidden");
    showAlert("");
    setStatus("dirty", "Unsaved changes");
    save();
  };
  discard.onclick = () => {
    localStorage.removeItem(stored.key);
    restore.classList.add("lp-hidden");
    discard.classList.add("lp-hidden");
    showAlert("");
  };
}

async function show(next, { announce = true } = {}) {
  clearTimeout(timer);
  task = next;
  showAlert("");
  $("relogin-link").classList.add("lp-hidden");
  if (!task) {
    if (canvas) canvas.api.destroy();
    canvas = null;
    showEmpty(true);
    if (announce) announceReady(null);
    return;
  }
  version = task.version;
  showEmpty(false);
  showTaskInfo(task);
  canvas = mountTask(task, config.labels, canvas && canvas.api);
  setStatus("saved", "Saved");
  offerRestore();
  await canvas.ready;
  if (announce && task === next) announceReady(task);
}

async function claimNext() {
  const res = await claimRequest(config, skipped);
  if (res.status === 204) return show(null);
  if (res.ok) return show(res.data);
  showClaimError("Could not load the next item: " + errorText(res));
  return null;
}

/** On load: show the task the page says the user holds (a read), then claim by
 *  POST. The same task back means resumed with a renewed lease: the canvas and
 *  any edits stay. Another task means the held one had expired: edits made
 *  meanwhile are kept locally and offered back if the item comes round again. */
async function start() {
  $("claim-status").textContent = "Getting the next item…";
  const held = task;
  const shown = held ? show(held, { announce: false }) : null;
  const res = await claimRequest(config, skipped);
  await shown;
  if (held && res.ok && res.data && res.data.id === held.id) {
    held.lease_expires_at = res.data.lease_expires_at;
    announceReady(held);
    return;
  }
  if (held && canvas && canvas.api.isDirty()) localDrafts.put(held, canvas.api.getShapes());
  if (res.status === 204) return show(null);
  if (res.ok) return show(res.data);
  showClaimError("Could not load the next item: " + errorText(res));
  return null;
}

async function submit() {
  if (!task || busy) return;
  busy = true;
  clearTimeout(timer);
  if (saving) await saving;
  const shapes = canvas.api.getShapes();
  setStatus("saving", "Submitting…");
  const res = await apiCall("POST", `${config.taskUrl}${task.id}/submit/`, { annotations: shapes });
  if (res.ok) {
    localDrafts.drop(task.id);
    await claimNext();
  } else if (res.status === 400) {
    setStatus("failed", "Not submitted");
    showAlert("Not submitted: " + errorText(res));
  } else {
    keepLocally(res.network ? 0 : res.status, res);
  }
  busy = false;
}

async function skip() {
  if (!task || busy) return;
  busy = true;
  clearTimeout(timer);
  if (saving) await saving;
  skipped.push(task.item.id);
  const res = await apiCall("POST", `${config.taskUrl}${task.id}/release/`);
  if (res.ok || res.status === 409) {
    localDrafts.drop(task.id);
    await claimNext();
  } else {
    showAlert("Could not skip: " + errorText(res));
  }
  busy = false;
}

$("canvas-root").addEventListener("shapesChanged", () => {
  if (!canvas || !canvas.api.isDirty()) return;
  setStatus("dirty", "Unsaved changes");
  schedule();
});
$("submit-btn").addEventListener("click", submit);
$("skip-btn").addEventListener("click", skip);
document.addEventListener("keydown", (e) => {
  if (e.key === "Enter" && (e.ctrlKey || e.metaKey) && !e.repeat) {
    e.preventDefault();
    submit();
  }
});
document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "hidden") saveOnLeave();
});
window.addEventListener("pagehide", saveOnLeave);
wireClaimForms(async () => {
  if (busy) return;
  busy = true;
  await claimNext();
  busy = false;
});
wireModelControls(() => canvas && canvas.api);
window.alwebPage = { canvas: () => canvas && canvas.api, save, submit, skip };
start();
