"""The computed report: frozen values that every renderer receives.

Everything a reader sees is decided here, including the display strings, so the PDF and
the PPTX can only ever show the same numbers.  Renderers place these values; they never
compute or re-format a number themselves.

``metric_results`` holds a metric's result, ``sections`` what a section shows, and
``report_model`` the whole report and the artifacts rendered from it.
"""
