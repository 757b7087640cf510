"""Server-rendered HTML (Jinja2), served outside ``/api/v1``: the stand-alone pages (no script) and
the web console's templates, its words in English and Spanish, its CSRF tokens and its static files
(htmx and its SSE extension, vendored; nothing from another origin)."""
