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

  // The pause survives a reload: it is kept in sessionStorage, per page (path) and switch.
  // Not localStorage: that would also pause every tab opened later, even days later, and a
  // dashboard that silently stops refreshing is worse than one that refreshes unasked. So a
  // new tab, or another page of this one, starts live; back on the paused page, it is paused.
  const pauseKey = (id) => `dashboard:paused:${window.location.pathname}:${id}`;

  const isPauseSwitch = (element) =>
    element instanceof HTMLInputElement &&
    element.type === "checkbox" &&
    element.id !== "" &&
    document.querySelector(`[data-paused-by="${CSS.escape(element.id)}"]`) !== null;

  const remembered = (id) => {
    try {
      return window.sessionStorage.getItem(pauseKey(id)) === "1";
    } catch {
      return false; // storage blocked by the browser: the switch simply starts off
    }
  };

  const remember = (id, paused) => {
    try {
      if (paused) {
        window.sessionStorage.setItem(pauseKey(id), "1");
      } else {
        window.sessionStorage.removeItem(pauseKey(id));
      }
    } catch {
      // storage blocked: the pause still works, it just does not outlive the page
    }
  };

  // This script is deferred: the document is parsed, and no poll has fired yet.
  document.querySelectorAll("input[type=checkbox][id]").forEach((input) => {
    if (isPauseSwitch(input)) {
      input.checked = remembered(input.id);
    }
  });

  document.addEventListener("change", (event) => {
    if (isPauseSwitch(event.target)) {
      remember(event.target.id, event.target.checked);
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
