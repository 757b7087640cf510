"""The ``/quick-replies`` area: canned answers agents insert by shortcut."""
