"""llmctl's own files: parse with line numbers, write atomically under a lock, edit TOML
keeping its comments, cache validated content, and derive validation from records."""
