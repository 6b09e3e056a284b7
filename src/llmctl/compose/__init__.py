"""What is sent: a job's templates rendered with its variables (from the command line, the
book and the job), the schema of its answer and the check of an answer against it, and the
hash that names the version of a job's work. Pure but for reading the user's files through
`llmctl.files`; Jinja2 and jsonschema are imported only when a template or a schema needs
them."""
