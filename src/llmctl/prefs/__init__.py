"""The user's preferences and their changes: config.toml (with scope defaults and
providers), book files, jobs.toml, and the audit log of every change."""
