"""Who gets the newsletter: the subscriber list (`subscribers`), double opt-in
sign-up (`signup`), and what a bounce or complaint does to a subscriber
(`bounce_policy`, reading the server's words with `reasons`), whether it comes back
to the inbox later or is a refusal while `send` talks to the server."""
