// Zoom (wheel, around the cursor), pan (space-drag or middle-button drag)
// and fit-to-screen. Registered before the tools so a pan swallows the
// pointer events that would otherwise draw or select.

import { fitView, zoomAt } from "./geometry.js";

const MAX_SCALE = 64;

export function createView(stage, store, { setCursor }) {
  let space = false;
  let pan = null;
  let autoFit = true; // refit on resize until the user zooms or pans

  const fitScale = () => {
    const s = store.get();
    return fitView(s.width, s.height, s.viewW, s.viewH).scale;
  };

  function fit() {
    const s = store.get();
    if (s.viewW <= 0 || s.viewH <= 0) return;
    autoFit = true;
    store.update({ view: fitView(s.width, s.height, s.viewW, s.viewH) });
  }

  function zoom(sx, sy, factor) {
    const s = store.get();
    autoFit = false;
    store.update({ view: zoomAt(s.view, sx, sy, factor, fitScale() / 8, MAX_SCALE) });
  }

  function zoomTo(scale) {
    const s = store.get();
    zoom(s.viewW / 2, s.viewH / 2, scale / s.view.scale);
  }

  function panBy(dx, dy) {
    const v = store.get().view;
    autoFit = false;
    store.update({ view: { ...v, ox: v.ox + dx, oy: v.oy + dy } });
  }

  function onWheel(e) {
    e.preventDefault();
    let dy = e.deltaY;
    if (e.deltaMode === 1) dy *= 16;
    else if (e.deltaMode === 2) dy *= 400;
    dy = Math.max(-300, Math.min(300, dy));
    const r = stage.getBoundingClientRect();
    zoom(e.clientX - r.left, e.clientY - r.top, Math.exp(-dy * 0.002));
  }

  function onDown(e) {
    if (!(e.button === 1 || (e.button === 0 && space))) return;
    e.preventDefault();
    e.stopImmediatePropagation();
    stage.focus({ preventScroll: true });
    pan = { x: e.clientX, y: e.clientY, view: store.get().view };
    stage.setPointerCapture(e.pointerId);
    setCursor("grabbing");
  }

  function onMove(e) {
    if (!pan) return;
    e.stopImmediatePropagation();
    autoFit = false;
    const v = pan.view;
    store.update({ view: { ...v, ox: v.ox + e.clientX - pan.x, oy: v.oy + e.clientY - pan.y } });
  }

  function onUp(e) {
    if (!pan) return;
    e.stopImmediatePropagation();
    pan = null;
    if (stage.hasPointerCapture(e.pointerId)) stage.releasePointerCapture(e.pointerId);
    setCursor(space ? "grab" : null);
  }

  // Middle button: no autoscroll, no X11 paste.
  const noMiddle = (e) => e.button === 1 && e.preventDefault();

  stage.addEventListener("wheel", onWheel, { passive: false });
  stage.addEventListener("pointerdown", onDown);
  stage.addEventListener("pointermove", onMove);
  stage.addEventListener("pointerup", onUp);
  stage.addEventListener("pointercancel", onUp);
  stage.addEventListener("mousedown", noMiddle);
  stage.addEventListener("auxclick", noMiddle);

  return {
    fit,
    zoom,
    zoomTo,
    panBy,
    get autoFit() {
      return autoFit;
    },
    get panning() {
      return !!pan;
    },
    setSpace(down) {
      if (space === down) return;
      space = down;
      if (!pan) setCursor(down ? "grab" : null);
    },
    destroy() {
      stage.removeEventListener("wheel", onWheel);
      stage.removeEventListener("pointerdown", onDown);
      stage.removeEventListener("pointermove", onMove);
      stage.removeEventListener("pointerup", onUp);
      stage.removeEventListener("pointercancel", onUp);
      stage.removeEventListener("mousedown", noMiddle);
      stage.removeEventListener("auxclick", noMiddle);
    },
  };
}
