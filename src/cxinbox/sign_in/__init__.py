"""The ``/auth`` area: registration, sign-in (password or emailed code), refresh, the current user."""
