"""Everything that drives Chromium: page objects for Marketplace, the browser, sessions in and out.

A package of its own, below both apps: it takes plain data (a `Listing`, photo paths, a storage
state, a `Target`) and imports neither Django nor any model, so that `accounts` (the live session
check, `save_session`) and `postings` (the worker) both use it without reaching into each other.
"""
