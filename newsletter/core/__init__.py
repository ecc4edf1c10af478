"""The shared ground every stage stands on: the vocabulary (`model`), errors, the
text and header rules, the clock, links, locks, stopping, lazy exports and the
version. It imports no other part of the package."""
