"""The shared ground every stage stands on: the vocabulary (`model`), errors, the
text and header rules, the clock, links, locks, stopping, lazy exports, the
version, which hosts are this machine (`hosts`) and the guard on `base_url`
(`origin_guard`). It imports no other part of the package."""
