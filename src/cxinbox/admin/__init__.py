"""The platform operator's area: every organization, platform statistics, system configuration."""
