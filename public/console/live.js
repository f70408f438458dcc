// cohort console: refreshes each [data-testid="live"] region from its data-live-src every few seconds.
// One request in flight at most (the next timer is set only after it finished), paused while the tab
// is hidden, and stopped (with a note) when the session ends. Without this script, reloading works.
// While keyboard focus is inside a region (a button, a field being edited, a scrollable table) the
// region is not replaced, so focus and input stay where the operator put them (WCAG 2.1.1, 2.4.3);
// it refreshes again at the next tick after focus leaves. An unchanged answer is not swapped in.
(() => {
  const INTERVAL_MS = 4000;

  function start(region) {
    const src = region.getAttribute("data-live-src");
    if (!src) return;
    let timer = null;
    let inFlight = false;
    let stopped = false;
    let shown = null; // the last HTML swapped in

    const focusInside = () => {
      const active = document.activeElement;
      return active !== null && active !== document.body && region.contains(active);
    };

    const schedule = () => {
      if (stopped || timer !== null || inFlight || document.hidden) return;
      timer = setTimeout(refresh, INTERVAL_MS);
    };

    const stop = (why) => {
      stopped = true;
      region.setAttribute("data-live-stopped", why);
      const note = document.createElement("p");
      note.className = "note";
      note.setAttribute("role", "status");
      note.textContent = `Live refresh stopped (${why}): reload the page.`;
      region.before(note);
    };

    async function refresh() {
      timer = null;
      if (document.hidden) return;
      if (focusInside()) {
        region.setAttribute("data-live-held", "focus");
        schedule();
        return;
      }
      region.removeAttribute("data-live-held");
      inFlight = true;
      try {
        const response = await fetch(src, {
          credentials: "same-origin",
          headers: { accept: "text/html" },
          redirect: "error",
        });
        if (response.status === 401) stop("signed out");
        else if (response.ok) {
          const html = await response.text();
          // Focus may have moved in while the request was out: keep it, try again next tick.
          if (focusInside()) region.setAttribute("data-live-held", "focus");
          else {
            if (html !== shown) region.innerHTML = html;
            shown = html;
            region.setAttribute("data-refreshed-at", new Date().toISOString());
          }
        } else if (response.status === 403 || response.status === 404) stop(`HTTP ${response.status}`);
      } catch {
        // A network hiccup: try again at the next tick.
      } finally {
        inFlight = false;
        schedule();
      }
    }

    document.addEventListener("visibilitychange", () => {
      if (document.hidden) {
        if (timer !== null) clearTimeout(timer);
        timer = null;
      } else schedule();
    });
    schedule();
  }

  const run = () => document.querySelectorAll('[data-testid="live"][data-live-src]').forEach(start);
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", run);
  else run();
})();
