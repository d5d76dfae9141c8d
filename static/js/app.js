/* BounceCRM front-end behaviour: row selection for the bulk action, the unblock dialogs and
   their required confirmation. Everything works without it too: links fall back to the
   confirmation page, and the server refuses an unconfirmed unblock. */
(function () {
  "use strict";

  function ready(fn) {
    if (document.readyState !== "loading") fn();
    else document.addEventListener("DOMContentLoaded", fn);
  }

  function modalFor(el) {
    return window.bootstrap ? window.bootstrap.Modal.getOrCreateInstance(el) : null;
  }

  // An empty reason says why in words under the field (and to screen readers), not only in red.
  function showReasonError(reason) {
    var id = reason.id + "-required";
    if (document.getElementById(id) || !reason.dataset.requiredMessage) return;
    var feedback = document.createElement("div");
    feedback.className = "invalid-feedback d-block";
    feedback.id = id;
    feedback.textContent = reason.dataset.requiredMessage;
    reason.insertAdjacentElement("afterend", feedback);
    reason.setAttribute("aria-describedby", id);
    reason.setAttribute("aria-invalid", "true");
    reason.addEventListener("input", function () {
      if (!reason.value.trim()) return;
      reason.classList.remove("is-invalid");
      reason.removeAttribute("aria-invalid");
      feedback.remove();
    });
  }

  // A confirmation form does nothing until its box is ticked, and says why.
  function initConfirmForms() {
    document.querySelectorAll("form[data-confirm-form]").forEach(function (form) {
      var box = form.querySelector("[data-confirm-box]");
      if (!box) return;
      box.addEventListener("change", function () {
        if (box.checked) box.classList.remove("is-invalid");
      });
      form.addEventListener("submit", function (event) {
        var reason = form.querySelector("textarea[name=reason][required], textarea[name=reason]");
        if (!box.checked) {
          event.preventDefault();
          box.classList.add("is-invalid");
          box.focus();
        } else if (reason && reason.hasAttribute("required") && !reason.value.trim()) {
          event.preventDefault();
          reason.classList.add("is-invalid");
          showReasonError(reason);
          reason.focus();
        }
      });
    });
  }

  // The list's "Unblock" links open one shared dialog filled with the address.
  function initUnblockLinks() {
    var dialog = document.getElementById("unblock-modal");
    if (!dialog) return;
    var form = dialog.querySelector("form");
    document.querySelectorAll("[data-unblock-modal]").forEach(function (link) {
      link.addEventListener("click", function (event) {
        var modal = modalFor(dialog);
        if (!modal) return; // no Bootstrap: follow the link to the confirmation page
        event.preventDefault();
        form.setAttribute("action", link.dataset.unblockUrl);
        form.querySelector("input[name=field]").value = link.dataset.field;
        dialog.querySelector("[data-unblock-address]").textContent = link.dataset.address;
        var box = form.querySelector("[data-confirm-box]");
        box.checked = false;
        box.classList.remove("is-invalid");
        modal.show(link);
      });
    });
  }

  // Row selection, "select all on this page" and "select all matching this filter".
  function initSelection() {
    var bulkForm = document.getElementById("bulk-form");
    if (!bulkForm) return;
    var pageBox = document.querySelector("[data-select-page]");
    var rows = Array.prototype.slice.call(document.querySelectorAll("[data-row-select]"));
    var count = document.querySelector("[data-selection-count]");
    var openButton = document.querySelector("[data-bulk-open]");
    var banner = document.querySelector("[data-select-all-banner]");
    var allInput = bulkForm.querySelector("[data-all-matching-input]");
    var selectAll = document.querySelector("[data-select-all-matching]");
    var allSelected = document.querySelector("[data-all-matching-selected]");
    var scope = bulkForm.querySelector("[data-bulk-scope]");
    var pageSelected = document.querySelector("[data-page-selected]");
    var labels = {
      none: count ? count.textContent : "",
    };

    function selected() {
      return rows.filter(function (box) { return box.checked; });
    }

    function refresh() {
      var n = selected().length;
      var all = allInput.value === "1";
      rows.forEach(function (box) {
        var tr = box.closest("tr");
        if (tr) tr.classList.toggle("table-active-selected", box.checked);
      });
      if (pageBox) {
        pageBox.checked = n > 0 && n === rows.length;
        pageBox.indeterminate = n > 0 && n < rows.length;
      }
      var text;
      // "All N rows matching" is said once: in the count (a live region), not in the banner too.
      if (all && allSelected) text = allSelected.dataset.text;
      else if (n) text = (count.dataset.some || "%(count)s").replace("%(count)s", String(n));
      else text = labels.none;
      if (count) count.textContent = text;
      if (scope) scope.textContent = text;
      openButton.disabled = !(n || all);
      if (banner) banner.classList.toggle("d-none", !(rows.length && n === rows.length));
      if (selectAll) selectAll.classList.toggle("d-none", all);
      if (allSelected) allSelected.classList.toggle("d-none", !all);
      if (pageSelected) pageSelected.classList.toggle("d-none", all);
    }

    if (pageBox) {
      pageBox.addEventListener("change", function () {
        rows.forEach(function (box) { box.checked = pageBox.checked; });
        if (!pageBox.checked) allInput.value = "";
        refresh();
      });
    }
    rows.forEach(function (box) {
      box.addEventListener("change", function () {
        if (!box.checked) allInput.value = "";
        refresh();
      });
    });
    if (selectAll) {
      selectAll.addEventListener("click", function () { allInput.value = "1"; refresh(); });
    }
    var clear = document.querySelector("[data-clear-selection]");
    if (clear) {
      clear.addEventListener("click", function () {
        allInput.value = "";
        rows.forEach(function (box) { box.checked = false; });
        refresh();
      });
    }
    refresh();
  }

  function initAutosubmit() {
    document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
      select.addEventListener("change", function () { select.form.submit(); });
    });
  }

  // A background bulk unblock: poll its status and move the progress bar; reload for the
  // server-rendered summary once it is finished. (Without JavaScript the page refreshes itself.)
  function initBulkJob() {
    var card = document.querySelector("[data-bulk-job]");
    if (!card || card.dataset.state === "done" || card.dataset.state === "failed") return;
    var bar = card.querySelector("[data-bulk-job-progress]");
    var inner = bar ? bar.querySelector(".progress-bar") : null;
    var counts = card.querySelector("[data-bulk-job-counts]");
    var format = function (n) { return Number(n).toLocaleString(document.documentElement.lang || undefined); };

    function show(status) {
      var percent = String(status.percent);
      if (bar) bar.setAttribute("aria-valuenow", percent);
      if (inner) {
        inner.style.width = percent + "%";
        inner.textContent = percent + "%";
      }
      if (counts && counts.dataset.template) {
        counts.textContent = counts.dataset.template
          .replace("%(processed)s", format(status.processed))
          .replace("%(total)s", format(status.total))
          .replace("%(unblocked)s", format(status.unblocked));
      }
    }

    function poll() {
      fetch(card.dataset.statusUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) {
          if (!response.ok) throw new Error(String(response.status));
          return response.json();
        })
        .then(function (status) {
          show(status);
          if (status.finished) window.location.reload();
          else window.setTimeout(poll, 1000);
        })
        .catch(function () { window.setTimeout(poll, 3000); });
    }
    poll();
  }

  // Warning tooltips (shown by CSS on hover and focus): Escape hides the open one until the
  // pointer or focus leaves its icon (WCAG 1.4.13), and one that would run off the right edge
  // opens leftwards instead.
  function initTooltips() {
    // A list page renders each category's meaning and advice once, hidden (the icons name it
    // in aria-describedby); each tooltip shows a copy, hidden from screen readers, which read
    // the original through aria-describedby.
    document.querySelectorAll(".block-tip[data-info]").forEach(function (tip) {
      var info = document.getElementById(tip.dataset.info);
      if (!info) return;
      var copy = document.createElement("span");
      copy.className = "block-tip-info";
      copy.setAttribute("aria-hidden", "true");
      Array.prototype.forEach.call(info.children, function (child) {
        copy.appendChild(child.cloneNode(true));
      });
      tip.insertBefore(copy, tip.querySelector(".block-tip-meta"));
    });
    function place(badge) {
      var tip = badge.querySelector(".block-tip");
      if (!tip) return;
      badge.classList.remove("tip-dismissed");
      tip.classList.remove("tip-flip");
      var rect = tip.getBoundingClientRect();
      if (rect.right > document.documentElement.clientWidth - 4) tip.classList.add("tip-flip");
    }
    document.querySelectorAll(".block-badge").forEach(function (badge) {
      badge.addEventListener("mouseenter", function () { place(badge); });
      badge.addEventListener("focus", function () { place(badge); });
      badge.addEventListener("mouseleave", function () { badge.classList.remove("tip-dismissed"); });
      badge.addEventListener("blur", function () { badge.classList.remove("tip-dismissed"); });
    });
    document.addEventListener("keydown", function (event) {
      if (event.key !== "Escape") return;
      document.querySelectorAll(".block-badge:hover, .block-badge:focus").forEach(function (badge) {
        badge.classList.add("tip-dismissed");
      });
    });
  }

  ready(function () {
    initTooltips();
    initBulkJob();
    initConfirmForms();
    initUnblockLinks();
    initSelection();
    initAutosubmit();
  });
})();
