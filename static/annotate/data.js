// Data page: the export form asks the export API itself. A small project answers
// the file at once (downloaded from a blob); a large one answers 202 with a run
// to poll: the bar follows its progress, then the browser fetches download_url.
// Without JavaScript the form is a plain GET of the export URL.

const form = document.getElementById("export-form");
const bar = document.getElementById("export-progress");
const statusLine = document.getElementById("export-status");
const POLL_MS = 1000;

function say(text) {
  statusLine.textContent = text;
}

function fileName(response, fallback) {
  const header = response.headers.get("Content-Disposition") || "";
  const match = /filename="([^"]+)"/.exec(header);
  return match ? match[1] : fallback;
}

async function saveBlob(response, fallback) {
  const blob = await response.blob();
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = fileName(response, fallback);
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

async function follow(job) {
  bar.hidden = false;
  for (;;) {
    const response = await fetch(job.status_url, { credentials: "same-origin" });
    if (!response.ok) {
      say(`Export status unavailable (HTTP ${response.status}).`);
      return;
    }
    const state = await response.json();
    bar.value = state.progress || 0;
    say(`Export ${state.status}: ${Math.round((state.progress || 0) * 100)} %`);
    if (state.status === "succeeded") {
      window.location.assign(state.download_url);
      say("Export ready: downloading.");
      return;
    }
    if (state.status === "failed" || state.status === "cancelled") {
      say(`Export ${state.status}${state.error ? `: ${state.error}` : ""}.`);
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const params = new URLSearchParams(new FormData(form));
  const url = `${form.action}?${params}`;
  say("Exporting…");
  bar.hidden = true;
  try {
    const response = await fetch(url, { credentials: "same-origin" });
    if (response.status === 202) {
      await follow(await response.json());
    } else if (response.ok) {
      const json = params.get("format") === "coco" && !params.get("images");
      await saveBlob(response, `export.${json ? "json" : "zip"}`);
      say("Export downloaded.");
    } else {
      const body = await response.json().catch(() => ({}));
      say(`Export refused (HTTP ${response.status}): ${JSON.stringify(body).slice(0, 300)}`);
    }
  } catch (error) {
    say(`Export failed: ${error}`);
  }
});
