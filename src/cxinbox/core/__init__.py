"""Framework pieces that know no domain: database, errors, wire format, jobs, events, limits."""
