// The review page: one claimed review task at a time, shown with its shapes and
// their authors. The select tool is active; edits are allowed, marked on the
// canvas and in the list, and saved only on Approve (Ctrl+Enter). Reject (R
// focuses the reason, Ctrl+Enter in it rejects) needs a comment and discards
// edits. Then the next task: preloaded, so it is on screen at once
// (task-runner.js). The page's GET claims nothing: the runner claims by POST.

import { uiSettings, wireSettings } from "./page-state.js";
import { createTaskRunner } from "./task-runner.js";
import {
  $, errorText, readConfig, showAlert, wireClaimForms, wireFocusReturn, wirePageKeys,
} from "./task-client.js";

const PAGE_KEYS = [["This page", [
  ["Ctrl+Enter", "approve (with your edits)"],
  ["R", "reject: type the reason, then Ctrl+Enter (Escape goes back to the canvas)"],
  ["Shift+S", "skip this item"],
]]];
const config = readConfig();
const settings = uiSettings(config.projectId, "review");

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

// An item labelled by two annotators: their agreement and both versions; the
// canvas starts with the second, a button puts either one on it (then Approve
// saves the one shown, as an edit).
function showConsensus(t) {
  const box = $("consensus");
  box.replaceChildren();
  box.hidden = !t.consensus;
  if (!t.consensus) return;
  const pct = Math.round(100 * t.consensus.agreement);
  const head = document.createElement("strong");
  head.dataset.testid = "consensus-agreement";
  head.textContent = `Two annotators, agreement ${pct}%`;
  box.append(head);
  for (const v of t.consensus.versions) {
    const n = v.shapes.length;
    const btn = document.createElement("button");
    btn.type = "button";
    btn.dataset.testid = "consensus-use";
    btn.dataset.keepFocus = "";
    btn.textContent = `Show ${v.annotator}'s version (${n} shape${n === 1 ? "" : "s"})`;
    btn.addEventListener("click", () => {
      if (runner.canvas) runner.canvas.replaceShapes(v.shapes);
    });
    box.append(" ", btn);
  }
}

const runner = createTaskRunner(config, {
  canvasOptions: () => {
    const { threshold, modelVisible, label } = settings.get();
    return { threshold, modelVisible, label, tool: "select", markEdits: true,
      keyScope: $("task-work"), pageKeys: PAGE_KEYS };
  },
  onShow(t) {
    showAlert("");
    $("reject-comment").value = "";
    $("reject-error").textContent = "";
    // The reviewer sees the comment of an earlier rejection as history.
    if (t.item.review_comment) {
      $("review-comment").textContent = `Earlier review: ${t.item.review_comment}`;
    }
    showAuthors(t);
    showConsensus(t);
  },
  onReady() {},
  onDone() {},
  onFailed(action, res) {
    if (res.status === 400 && res.data && res.data.comment) {
      $("reject-error").textContent = [].concat(res.data.comment).join(" ");
    } else {
      const verb = action === "release" ? "skip" : action;
      showAlert(`Could not ${verb}: ${errorText(res)}`);
    }
  },
  keepLocal() {},
});
const canvas = () => runner.canvas;

function approve() {
  const c = canvas();
  if (!c || !runner.task) return;
  // Corrections only when the reviewer changed something.
  runner.finish("approve", c.isDirty() ? { annotations: c.getShapes() } : {});
}

function reject() {
  const comment = $("reject-comment").value.trim();
  if (!comment) {
    $("reject-error").textContent = "Say what is wrong: a comment is required to reject.";
    $("reject-comment").focus();
    return;
  }
  runner.finish("reject", { comment });
}

function skip() {
  runner.finish("release", undefined, { accept: (res) => res.ok || res.status === 409 });
}

$("approve-btn").addEventListener("click", approve);
$("reject-form").addEventListener("submit", (e) => {
  e.preventDefault();
  reject();
});
$("skip-btn").addEventListener("click", skip);
const comment = $("reject-comment");
comment.addEventListener("input", () => { $("reject-error").textContent = ""; });
comment.addEventListener("keydown", (e) => {
  if (e.key === "Enter" && (e.ctrlKey || e.metaKey) && !e.repeat) {
    e.preventDefault();
    reject();
  } else if (e.key === "Escape" && canvas()) {
    e.preventDefault();
    canvas().focus();
  }
});
wireSettings($("canvas-root"), settings);
wirePageKeys({
  "ctrl+enter": approve,
  "shift+s": skip,
  r: () => {
    if (runner.task) comment.focus();
  },
});
wireFocusReturn($("review-page"), canvas);
wireClaimForms(() => runner.claimNext());
window.alwebPage = { canvas, runner, approve, reject, skip };
runner.start();
