"""Analytics: the organization's figures over a date range, in the caller's timezone."""
