/* "Email these records" on the lists: post the selection (ticked ids, or "all rows matching
   this filter") to the new-mailing form. The bulk-unblock form's confirmation check must not
   apply, so a separate form is built and submitted. Without JavaScript the button submits the
   bulk form directly (formaction), which works the same. */
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-email-selection]");
    if (!button) return;
    var source = document.getElementById(button.getAttribute("form"));
    if (!source) return;
    event.preventDefault();
    var form = document.createElement("form");
    form.method = "post";
    form.action = button.getAttribute("formaction");
    form.hidden = true;
    function add(name, value) {
      var input = document.createElement("input");
      input.type = "hidden";
      input.name = name;
      input.value = value;
      form.appendChild(input);
    }
    add("record_type", button.value);
    ["csrfmiddlewaretoken", "query", "all_matching"].forEach(function (name) {
      var field = source.querySelector("[name=" + name + "]");
      if (field) add(name, field.value);
    });
    document.querySelectorAll("input[name=ids][form=" + source.id + "]:checked").forEach(function (box) {
      add("ids", box.value);
    });
    document.body.appendChild(form);
    form.submit();
  });
})();
