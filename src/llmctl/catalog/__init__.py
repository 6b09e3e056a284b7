"""The catalog: the entry record and its validation, catalog files (read, merge, cache),
queries, edits of the user's catalog, import and sync (one matcher), costs, checks and
the seed's registry."""
