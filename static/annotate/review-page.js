// The review page: one claimed review task at a time, shown with its shapes
// and their authors; Approve (with the reviewer's corrections, if any) or
// Reject with a required comment, then the next task loads without a reload.
// The page's GET claims nothing: on load this script claims (or resumes,
// renewing the lease) with a POST.

import {
  $, announceReady, apiCall, claimRequest, errorText, mountTask, readConfig, showAlert,
  showClaimError, showEmpty, showTaskInfo, wireClaimForms, wireModelControls,
} from "./task-client.js";

const config = readConfig();
let task = config.task;
let canvas = null;
let busy = false;
const skipped = [];

function showAuthors(t) {
  const authors = new Set();
  let model = 0;
  for (const s of t.annotations) {
    if (typeof s.source === "string" && s.source.startsWith("model:")) model += 1;
    else if (s.author) authors.add(s.author);
  }
  const parts = [];
  if (authors.size) parts.push(`Labelled by ${[...authors].join(", ")}`);
  if (model) parts.push(`${model} unchanged model shape${model === 1 ? "" : "s"}`);
  parts.push(`${t.annotations.length} shape${t.annotations.length === 1 ? "" : "s"}`);
  $("authors").textContent = parts.join(" · ");
}

async function show(next, { announce = true } = {}) {
  task = next;
  showAlert("");
  $("reject-comment").value = "";
  $("reject-error").textContent = "";
  if (!task) {
    if (canvas) canvas.api.destroy();
    canvas = null;
    showEmpty(true);
    if (announce) announceReady(null);
    return;
  }
  showEmpty(false);
  showTaskInfo(task);
  // The reviewer sees the comment of an earlier rejection as history.
  if (task.item.review_comment) {
    $("review-comment").textContent = `Earlier review: ${task.item.review_comment}`;
  }
  showAuthors(task);
  canvas = mountTask(task, config.labels, canvas && canvas.api);
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
 *  POST; the same task back means resumed with a renewed lease. */
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
  if (res.status === 204) return show(null);
  if (res.ok) return show(res.data);
  showClaimError("Could not load the next item: " + errorText(res));
  return null;
}

async function act(action, body) {
  if (!task || busy) return;
  busy = true;
  const res = await apiCall("POST", `${config.taskUrl}${task.id}/${action}/`, body);
  if (res.ok) {
    await claimNext();
  } else if (res.status === 400 && res.data && res.data.comment) {
    $("reject-error").textContent = [].concat(res.data.comment).join(" ");
  } else {
    showAlert(`Could not ${action}: ${errorText(res)}`);
  }
  busy = false;
}

$("approve-btn").addEventListener("click", () => {
  if (!canvas) return;
  // Corrections only when the reviewer changed something.
  act("approve", canvas.api.isDirty() ? { annotations: canvas.api.getShapes() } : {});
});
$("reject-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const comment = $("reject-comment").value.trim();
  if (!comment) {
    $("reject-error").textContent = "Say what is wrong: a comment is required to reject.";
    $("reject-comment").focus();
    return;
  }
  act("reject", { comment });
});
$("skip-btn").addEventListener("click", async () => {
  if (!task || busy) return;
  busy = true;
  skipped.push(task.item.id);
  const res = await apiCall("POST", `${config.taskUrl}${task.id}/release/`);
  if (res.ok || res.status === 409) await claimNext();
  else showAlert("Could not skip: " + errorText(res));
  busy = false;
});
$("reject-comment").addEventListener("input", () => { $("reject-error").textContent = ""; });
wireClaimForms(async () => {
  if (busy) return;
  busy = true;
  await claimNext();
  busy = false;
});
wireModelControls(() => canvas && canvas.api);
window.alwebPage = { canvas: () => canvas && canvas.api };
start();
