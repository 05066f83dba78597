// What the label and review pages keep in this browser besides the shape
// drafts (task-client.js localDrafts): the canvas settings per project and
// page (drawing label, tool, model threshold and visibility) and the polygon
// being drawn per task, so that neither is lost on a reload.

const UI = "alweb:ui:";
const DRAWING = "alweb:drawing:";

function read(key) {
  try {
    return JSON.parse(localStorage.getItem(key) || "null");
  } catch {
    return null;
  }
}

function write(key, value) {
  try {
    if (value == null) localStorage.removeItem(key);
    else localStorage.setItem(key, JSON.stringify(value));
  } catch {
    // storage full or disabled: the page works without it
  }
}

/** Canvas settings of one page of one project: {label, tool, threshold, modelVisible}. */
export function uiSettings(projectId, kind) {
  const key = `${UI}${projectId}:${kind}`;
  return {
    get: () => read(key) || {},
    update(patch) {
      write(key, { ...(read(key) || {}), ...patch });
    },
  };
}

/** The polygon in progress on a task: {points, label, at} or null. */
export const localDrawings = {
  get(taskId) {
    const d = read(DRAWING + taskId);
    return d && Array.isArray(d.points) && d.points.length ? d : null;
  },
  put(taskId, drawing, label) {
    write(DRAWING + taskId, drawing ? { ...drawing, label, at: new Date().toISOString() } : null);
  },
  drop(taskId) {
    write(DRAWING + taskId, null);
  },
};

/** Keep the canvas settings up to date as they change on the canvas `root`. */
export function wireSettings(root, settings) {
  root.addEventListener("labelChanged", (e) => settings.update({ label: e.detail.label }));
  root.addEventListener("toolChanged", (e) => settings.update({ tool: e.detail.tool }));
  root.addEventListener("modelFilterChanged", (e) => settings.update(e.detail));
}
