// Upload page: sends the chosen or dropped files to the items API in batches
// (at most data-batch files per request) and lists created and skipped files.
// Without JavaScript the form posts to the page itself.

const form = document.getElementById("upload-form");
const input = document.getElementById("upload-input");
const zone = document.getElementById("upload-dropzone");
const bar = document.getElementById("upload-progress");
const statusLine = document.getElementById("upload-status");
const createdLine = document.getElementById("upload-created");
const skippedList = document.getElementById("upload-skipped");
const MAX_BATCH_BYTES = 64 * 1024 * 1024;

function csrfToken() {
  const field = form.querySelector("input[name=csrfmiddlewaretoken]");
  return field ? field.value : "";
}

function batches(files, size) {
  const out = [];
  let current = [];
  let bytes = 0;
  for (const file of files) {
    if (current.length && (current.length >= size || bytes + file.size > MAX_BATCH_BYTES)) {
      out.push(current);
      current = [];
      bytes = 0;
    }
    current.push(file);
    bytes += file.size;
  }
  if (current.length) out.push(current);
  return out;
}

function addSkipped(name, reason) {
  const li = document.createElement("li");
  const n = document.createElement("span");
  n.className = "name";
  n.textContent = name; // user strings only ever as text
  const r = document.createElement("span");
  r.className = "error";
  r.textContent = reason;
  li.append(n, ": ", r);
  skippedList.append(li);
}

async function upload(files) {
  const list = batches(Array.from(files), Number(form.dataset.batch) || 100);
  let created = 0;
  skippedList.replaceChildren();
  bar.hidden = false;
  bar.max = list.length;
  bar.value = 0;
  for (const [i, batch] of list.entries()) {
    statusLine.textContent = `Uploading batch ${i + 1} of ${list.length}…`;
    const body = new FormData();
    for (const file of batch) body.append("files", file, file.name);
    let response;
    try {
      response = await fetch(form.dataset.apiUrl, {
        method: "POST",
        body,
        credentials: "same-origin",
        headers: { "X-CSRFToken": csrfToken(), Accept: "application/json" },
      });
    } catch (err) {
      batch.forEach((f) => addSkipped(f.name, "network error, try again"));
      continue;
    }
    const data = await response.json().catch(() => ({}));
    if (response.status === 201) {
      created += data.created.length;
      data.skipped.forEach((s) => addSkipped(s.name, s.reason));
    } else {
      const reason = data.detail || (data.files && String(data.files)) || `error ${response.status}`;
      batch.forEach((f) => addSkipped(f.name, reason));
    }
    bar.value = i + 1;
    createdLine.textContent = `${created} items created`;
  }
  statusLine.textContent = "Done.";
  form.dispatchEvent(new CustomEvent("uploadFinished", { bubbles: true, detail: { created } }));
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  if (input.files.length) upload(input.files);
});
zone.addEventListener("dragover", (event) => {
  event.preventDefault();
  zone.classList.add("dragging");
});
zone.addEventListener("dragleave", () => zone.classList.remove("dragging"));
zone.addEventListener("drop", (event) => {
  event.preventDefault();
  zone.classList.remove("dragging");
  if (event.dataTransfer.files.length) upload(event.dataTransfer.files);
});
