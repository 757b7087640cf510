"""Server-rendered HTML pages (Jinja2, no scripts), served outside ``/api/v1``."""
