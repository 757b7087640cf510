"""Plans and their limits, defined in one place."""
