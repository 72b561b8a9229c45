"""How the course's site, notebooks and PDFs are made from ``book/``: one module per job.

- ``editions``: the English and Japanese editions, their chapters, generated configuration
  and table of contents, and the parity check that the build refuses to pass without.
- ``execute``: the execution cache (dropping runs when labkit changes) and executing the
  uncached chapters several at a time.
- ``render``: each edition rendered by Jupyter Book from the cache, skipped when nothing
  changed; the executed notebooks offered for download.
- ``siteroot``: the site's root page, sitemap index and the MathJax the pages serve.
- ``book``: ``make book`` (``scripts/build_book.py``): all of the above in order, timed.
- ``notebooks``: the chapters exported as plain notebooks for Databricks and Colab
  (``scripts/export_notebooks.py``).
- ``parity``: what the two editions of a chapter must share.
- ``course_site``: the Sphinx extension of the site (``site/course_site.py`` loads it).

The entry points in ``scripts/`` are thin: they put the repository on ``sys.path`` and call
these modules.
"""
