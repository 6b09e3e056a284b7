"""Selection: which LLM a job gets and why. `request` checks what the caller gives,
`picker` applies the rules (pure), `decision` holds the answer and its trace, and
`decide` is the one entry point."""
