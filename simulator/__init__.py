"""A local stand-in for Facebook Marketplace's "create listing" flow.

No machine here reaches Facebook, so the browser driver's tests, benchmarks and demos run against
this simulator instead. It reproduces what /work/shared/docs/facebook.md describes: the login and
checkpoint pages, the cookie-based session (`c_user` + `xs`), and the create-listing form with its
generated class names, `aria-labelledby` labels, comboboxes, location typeahead, multi-step Next
and Publish, plus faults that tests switch on through a JSON control API under `/__sim__/`.

Start it with `python -m simulator --port 8765`, or in-process with
`simulator.server.run_in_thread()`. Standard library only.
"""
