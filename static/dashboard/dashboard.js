// The dashboard's own behaviour, kept here rather than in attributes: the
// Content-Security-Policy allows no inline script and no eval, and htmx runs with
// allowEval off (so no hx-on attributes and no [filter] in hx-trigger).
(() => {
  "use strict";

  // "Pause live updates": a polling element names its switch in data-paused-by. While the
  // switch is ticked its poll ticks send nothing; its other triggers (the sessions-changed
  // event after a kill) still do. A poll tick is the one request htmx issues without a
  // triggering event.
  document.addEventListener("htmx:beforeRequest", (event) => {
    const { elt, requestConfig } = event.detail;
    const switchId = elt.dataset ? elt.dataset.pausedBy : undefined;
    if (!switchId || requestConfig.triggeringEvent) {
      return;
    }
    const pause = document.getElementById(switchId);
    if (pause && pause.checked) {
      event.preventDefault();
    }
  });

  // A form marked data-reset-on-success is emptied once its request succeeded: the kill-all
  // form must not stay armed with the typed app name.
  document.addEventListener("htmx:afterRequest", (event) => {
    const form = event.detail.elt;
    if (event.detail.successful && form.matches("form[data-reset-on-success]")) {
      form.reset();
    }
  });
})();
