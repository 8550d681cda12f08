"""What visitors ask and where the assistant fails them, read from the tracker store.

- `source`: which database, opened read-only, and its `events` streamed one
  conversation at a time (bounded memory on any size of store);
- `aggregate`: the figures (per language and in total) as one JSON-able dict;
- `guarded`: what of a visitor's text may be shown (no token, card, IBAN,
  password or e-mail address);
- `render`: the PNG plots and the HTML page;
- `exchange`: unanswered messages out as CSV, annotated lines back into data/nlu/;
- `web`: the same report on the support page's server, behind its own login.

`python -m insights --help` (or the `insights*` targets of the Makefile).
"""
