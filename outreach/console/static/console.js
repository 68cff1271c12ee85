// The staff console's little JavaScript. Nothing depends on it: every page works
// without it (forms post, pages reload). With it:
// 1. parts marked data-refresh="N" follow what is running (campaign progress,
//    exports being written): every N seconds the same page is fetched again and
//    the part replaced, until nothing in it is marked data-running. A part with
//    the keyboard focus in it waits, so nobody loses their place.
// 2. the campaign composer shows only the fields of the chosen kind, and its
//    preview (audience size, SMS cost) follows the form as it changes.
// 3. a form sent back with problems puts the focus on their list, so a screen
//    reader reads them first and the keyboard starts there.
"use strict";

(function () {
  const csrf = document.querySelector('meta[name="csrf-token"]')?.content ?? "";
  document.getElementById("problems")?.focus();

  async function fetchPage(url, options) {
    const response = await fetch(url, { credentials: "same-origin", ...options });
    if (!response.ok && response.status !== 400) throw new Error(String(response.status));
    return new DOMParser().parseFromString(await response.text(), "text/html");
  }

  // ------------------------------------------------------------------ 1. refreshing parts
  function follow(part) {
    const seconds = Math.max(1, Number(part.dataset.refresh) || 3);
    async function again() {
      if (!part.querySelector("[data-running]")) return;
      if (!document.hidden && !part.contains(document.activeElement)) {
        try {
          const page = await fetchPage(window.location.href);
          const fresh = page.getElementById(part.id);
          if (fresh) part.innerHTML = fresh.innerHTML;
        } catch (error) {
          // The next round tries again; the page itself still works.
        }
      }
      window.setTimeout(again, seconds * 1000);
    }
    window.setTimeout(again, seconds * 1000);
  }
  document.querySelectorAll("[data-refresh][id]").forEach(follow);

  // ------------------------------------------------------------------ 2. the composer
  const composer = document.getElementById("composer");
  if (!composer) return;
  const kind = composer.querySelector("#kind");
  const preview = document.getElementById("preview");

  function showKind() {
    composer.querySelectorAll("[data-kind]").forEach((field) => {
      field.hidden = field.dataset.kind !== kind.value;
    });
  }
  kind.addEventListener("change", showKind);
  showKind();

  let timer = 0;
  let asked = 0;
  async function refreshPreview() {
    const mine = ++asked;
    const body = new URLSearchParams(new FormData(composer));
    try {
      const page = await fetchPage(composer.dataset.preview, {
        method: "POST",
        headers: { "X-CSRF-Token": csrf },
        body,
      });
      const fresh = page.getElementById("preview");
      if (fresh && preview && mine === asked) {
        preview.setAttribute("aria-busy", "true");
        preview.innerHTML = fresh.innerHTML;
        preview.removeAttribute("aria-busy");
      }
    } catch (error) {
      // Without a preview here, the Preview button still works.
    }
  }
  function later() {
    window.clearTimeout(timer);
    timer = window.setTimeout(refreshPreview, 500);
  }
  composer.addEventListener("input", later);
  composer.addEventListener("change", later);
})();
