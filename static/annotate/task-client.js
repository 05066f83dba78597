// Shared glue of the label and review pages: the task API (with CSRF), claiming
// by POST, the local draft store, the "why is it here" line, focus going back to
// the canvas after every button, and the page's own keys. Every string reaches
// the DOM as text.

import { isTyping } from "./canvas/keyboard.js";

export const $ = (id) => document.getElementById(id);

export function readConfig() {
  return JSON.parse($("task-page-config").textContent);
}

function csrfToken() {
  const m = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return m ? decodeURIComponent(m[1]) : "";
}

/** Result of an API call: {ok, status, data, network} (never throws). */
export async function apiCall(method, url, body, { keepalive = false } = {}) {
  const init = {
    method,
    credentials: "same-origin",
    keepalive,
    headers: { Accept: "application/json", "X-CSRFToken": csrfToken() },
  };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  try {
    const res = await fetch(url, init);
    let data = null;
    if (res.status !== 204) {
      try {
        data = await res.json();
      } catch {
        data = null;
      }
    }
    return { ok: res.ok, status: res.status, data, network: false };
  } catch {
    return { ok: false, status: 0, data: null, network: true };
  }
}

const TRANSIENT = new Set([0, 502, 503, 504]); // no answer, or the proxy's

/** apiCall, tried again (after 0.5, 1 and 2 s) while the server could not be
 *  reached or a proxy answered 502-504: for requests that are safe to repeat
 *  (a submit with its client_id is applied once however often it arrives). */
export async function apiCallRetrying(method, url, body, { delays = [500, 1000, 2000] } = {}) {
  let res = await apiCall(method, url, body);
  for (const ms of delays) {
    if (!TRANSIENT.has(res.status)) break;
    await new Promise((r) => setTimeout(r, ms));
    res = await apiCall(method, url, body);
  }
  return res;
}

/** A fresh client id for one submit attempt (random hex; crypto.randomUUID
 *  needs a secure context, which a plain-http install is not). */
export function newClientId() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** A short, human sentence for an API error body. */
export function errorText(result) {
  if (result.network) return "The server could not be reached (network error).";
  if (result.status === 401 || result.status === 403) {
    return "Your session has ended or your role changed. Log in again.";
  }
  const d = result.data || {};
  if (typeof d.detail === "string") return d.detail;
  const parts = [];
  for (const [k, v] of Object.entries(d)) parts.push(`${k}: ${[].concat(v).join(" ")}`);
  return parts.join("; ") || `The server answered ${result.status}.`;
}

// Local drafts: kept when a save fails, offered back after re-login. -------

const PREFIX = "alweb:draft:";

export function comparable(shapes) {
  return JSON.stringify((shapes || []).map((s) => [s.kind, s.label, s.bbox || s.points]));
}

export const localDrafts = {
  /** `tag` keeps a copy apart from the task's usual one (which a save in any
   *  tab drops): a copy kept because another tab saved first. */
  put(task, shapes, tag = "") {
    try {
      localStorage.setItem(PREFIX + task.id + tag, JSON.stringify({
        taskId: task.id, itemId: task.item.id, shapes, at: new Date().toISOString(),
      }));
    } catch {
      // storage full or disabled: nothing more we can do locally
    }
  },
  drop(taskId) {
    try {
      localStorage.removeItem(PREFIX + taskId);
    } catch {
      // ignore
    }
  },
  /** A stored draft for this task (or an earlier task on the same item) that
   *  differs from what the server holds; identical ones are dropped. */
  find(task) {
    let found = null;
    try {
      for (let i = localStorage.length - 1; i >= 0; i--) {
        const key = localStorage.key(i);
        if (!key || !key.startsWith(PREFIX)) continue;
        const entry = JSON.parse(localStorage.getItem(key));
        if (entry.taskId !== task.id && entry.itemId !== task.item.id) continue;
        if (comparable(entry.shapes) === comparable(task.annotations)) {
          localStorage.removeItem(key);
        } else if (!found || entry.at > found.at) {
          found = { key, ...entry };
        }
      }
    } catch {
      return null;
    }
    return found;
  },
};

// Page pieces ------------------------------------------------------------

function fmt(v, digits = 3) {
  return v == null ? "—" : Number(v).toFixed(digits);
}

/** The "why is this item here" line: the item's file name and, in words, why
 *  it has its priority (the server's `priority_why`: strategy, batch rank or
 *  random control pick, the model version as users know it, the scores). */
export function showTaskInfo(task) {
  const item = task.item;
  const name = item.name || `item ${item.id}`;
  const why = [name];
  if (item.priority_why) why.push(item.priority_why);
  else {
    why.push(`priority ${fmt(item.priority)}`);
    if (item.uncertainty != null) why.push(`uncertainty ${fmt(item.uncertainty)}`);
  }
  const line = $("why-here");
  line.textContent = why.join(" · ");
  line.title = `item id ${item.id}` +
    (item.scored_by != null ? ` · model version id ${item.scored_by}` : "");
  const comment = $("review-comment");
  comment.textContent = item.review_comment ? `Reviewer: ${item.review_comment}` : "";
  comment.hidden = !item.review_comment;
}

export function showAlert(text, kind = "error") {
  const box = $("save-alert");
  $("save-alert-text").textContent = text;
  box.dataset.kind = kind;
  box.hidden = !text;
}

export function showEmpty(empty) {
  $("queue-start").hidden = true;
  $("queue-empty").hidden = !empty;
  $("task-work").hidden = empty;
}

/** Claim (or resume) the next task: a POST, never a GET, so that no link or
 *  image from another site can claim for the user. Resolves to the API result. */
export function claimRequest(config, exclude) {
  return apiCall("POST", config.nextUrl, { kind: config.kind, exclude: exclude.slice(-200) });
}

/** Where a failed claim is said: on the start panel while it shows, else the alert. */
export function showClaimError(text) {
  if (!$("queue-start").hidden) {
    $("claim-status").textContent = text;
  } else {
    showAlert(text);
  }
}

/** The pages' claim forms (the no-script fallback POSTs them to the page) claim
 *  through the API instead, without a page load. */
export function wireClaimForms(claim) {
  for (const form of document.querySelectorAll("form[data-claim]")) {
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      claim();
    });
  }
}

/** After any button of the page is used, focus goes back to the canvas so that
 *  its keys work again (buttons marked data-keep-focus move focus themselves). */
export function wireFocusReturn(section, getCanvas) {
  section.addEventListener("click", (e) => {
    const b = e.target.closest("button");
    if (!b || b.closest("dialog") || b.closest(".alc-root") || "keepFocus" in b.dataset) return;
    const canvas = getCanvas();
    if (canvas) canvas.focus();
  });
}

/** The page's own keys (document-wide, never while typing or while a dialog is
 *  open): {"ctrl+enter": fn, "ctrl+shift+enter": fn, "shift+s": fn, "r": fn}. */
export function wirePageKeys(keys) {
  document.addEventListener("keydown", (e) => {
    if (e.defaultPrevented || e.isComposing || e.repeat || e.altKey) return;
    if (isTyping(e.target) || document.querySelector("dialog[open]")) return;
    const name = [(e.ctrlKey || e.metaKey) && "ctrl", e.shiftKey && "shift",
      e.key.length === 1 ? e.key.toLowerCase() : e.key.toLowerCase()].filter(Boolean).join("+");
    const fn = keys[name];
    if (!fn) return;
    e.preventDefault();
    fn();
  });
}

/** Announce a loaded task to tests and benchmarks (window + a DOM event). */
export function announceReady(task) {
  window.alwebTask = { id: task ? task.id : null, readyAt: performance.now() };
  document.dispatchEvent(new CustomEvent("taskReady", { detail: window.alwebTask }));
}
