"""The ``/profile`` area: the signed-in user's own name, picture and password."""
