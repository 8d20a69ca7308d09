/* Print page: the button opens the browser's print dialog (choose "Save as PDF" for a PDF). */
(function () {
  "use strict";
  var b = document.getElementById("print-button");
  if (b) { b.addEventListener("click", function () { window.print(); }); }
})();
