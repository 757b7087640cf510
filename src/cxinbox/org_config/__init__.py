"""``/config``: an organization's branding, logo and feature toggles, plus public platform facts."""
