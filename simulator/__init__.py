"""A local stand-in for Facebook Marketplace's "create listing" flow.

No machine here reaches Facebook, so the browser driver's tests, benchmarks and demos run against
this simulator instead. It reproduces what /work/shared/docs/facebook.md describes: the login and
checkpoint pages, the cookie-based session (`c_user` + `xs`), and the create-listing form with its
generated class names, `aria-labelledby` labels, comboboxes, location typeahead, multi-step Next
and Publish, plus faults that tests switch on through a JSON control API under `/__sim__/`.
Each account gets one of two layouts of the form: "classic", or "2026" with every variant
facebook.md lists (carousel, stale drafts, category picker and chips, location on step 2,
meetup options, boost switch, a "Next" that publishes, the "Leave page?" dialog), chosen by
options through the control API.

Start it with `python -m simulator --port 8765`, or in-process with
`simulator.server.run_in_thread()`. Standard library only.
"""
