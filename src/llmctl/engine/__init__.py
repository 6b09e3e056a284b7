"""The engine: all I/O of sending. The pooled HTTP client and its error mapping (`http`),
the router (retries, fallback), the cooldown state, the usage store, the sender that
ties selection to them, and the probes (`providers check`, model lists)."""
